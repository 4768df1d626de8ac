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

    /// <summary>The directory of the runable-box program the sandboxes run.</summary>
    public static string RunableDirectory() => BoxProgram.Locate();

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
