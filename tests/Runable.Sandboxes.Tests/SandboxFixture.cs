using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Runable.Box.Client;
using Runable.Sandboxes.Bubblewrap;

namespace Runable.Sandboxes.Tests;

/// <summary>A bubblewrap backend over a temporary state directory, running the runable program built next to the tests.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public string StateDirectory { get; } = Directory.CreateTempSubdirectory("runable-sandboxes-").FullName;

    public BubblewrapBackend Backend { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        Backend = new BubblewrapBackend(new BubblewrapOptions
        {
            StateDirectory = StateDirectory,
            RunableDirectory = RunableDirectory(),
        }, NullLogger<BubblewrapBackend>.Instance);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The directory of the runable program that runs inside sandboxes: the ahead-of-time compiled one that
    /// setup publishes (artifacts/publish/runable-aot) when it is there, else the build in the same configuration as these tests.
    /// </summary>
    public static string RunableDirectory()
    {
        var testDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = testDirectory.Name;
        var bin = testDirectory.Parent!.Parent!.FullName;
        var aot = Path.Combine(Path.GetDirectoryName(bin)!, "publish", "runable-aot");
        if (File.Exists(Path.Combine(aot, "runable")))
        {
            return aot;
        }

        var directory = Path.Combine(bin, "Runable.Cli", configuration);
        return File.Exists(Path.Combine(directory, "runable"))
            ? directory
            : throw new InvalidOperationException($"The runable program is not built at {directory}; build the solution first.");
    }

    /// <summary>A client of the box inside <paramref name="sandbox"/>, over its unix socket.</summary>
    public static BoxClient Connect(Sandbox sandbox)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(sandbox.BoxSocket), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return new BoxClient(new HttpClient(handler) { BaseAddress = new Uri("http://box/"), Timeout = Timeout.InfiniteTimeSpan }, sandbox.BoxToken, ownsHttpClient: true);
    }

    public async ValueTask DisposeAsync()
    {
        await Backend.DisposeAsync();
        Directory.Delete(StateDirectory, recursive: true);
    }
}
