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
    public static BoxClient Connect(Sandbox sandbox) => BoxClient.ForUnixSocket(sandbox.BoxSocket, sandbox.BoxToken);

    public async ValueTask DisposeAsync()
    {
        await Backend.DisposeAsync();
        Directory.Delete(StateDirectory, recursive: true);
    }
}
