using Runable.Box.Protocol.Shell;

namespace Runable.Sandboxes.Tests;

public sealed class BubblewrapBackendTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Create_StartsABoxThatRunsCommandsAsTheSandboxUser()
    {
        var sandbox = await fixture.Backend.CreateAsync(new SandboxSpec(), Ct);
        using var box = SandboxFixture.Connect(sandbox);
        var result = await box.ExecAsync("id -u; id -g; pwd; hostname", cancellationToken: Ct);
        Assert.Equal("1000\n1000\n/workspace\nsandbox\n", result.Stdout);
        await fixture.Backend.DestroyAsync(sandbox.Id, Ct);
    }

    [Fact]
    public async Task Sandbox_OutlivesTheThreadThatCreatedIt()
    {
        // bwrap's --die-with-parent follows the thread that started it, not the process: a sandbox started from a
        // thread-pool thread would die when the pool retires that thread.
        Sandbox? sandbox = null;
        var thread = new Thread(() => sandbox = fixture.Backend.CreateAsync(new SandboxSpec(), Ct).GetAwaiter().GetResult());
        thread.Start();
        thread.Join();
        await Task.Delay(500, Ct);

        Assert.True(fixture.Backend.IsRunning(sandbox!.Id), "the sandbox died with the thread that created it");
        using var box = SandboxFixture.Connect(sandbox);
        Assert.Equal("alive\n", (await box.ExecAsync("echo alive", cancellationToken: Ct)).Stdout);
        await fixture.Backend.DestroyAsync(sandbox.Id, Ct);
    }

    [Fact]
    public async Task Destroy_KillsEveryProcessIncludingDaemonsAndRemovesItsDirectory()
    {
        var sandbox = await fixture.Backend.CreateAsync(new SandboxSpec(), Ct);
        using (var box = SandboxFixture.Connect(sandbox))
        {
            await box.ExecAsync("setsid sh -c 'sleep 600 & sleep 600' > /dev/null 2>&1 < /dev/null &", cancellationToken: Ct);
        }

        var processes = fixture.Backend.Processes(sandbox.Id);
        Assert.True(processes.Count >= 3, $"expected the box and the daemon's sleeps, found {processes.Count}");
        await fixture.Backend.DestroyAsync(sandbox.Id, Ct);
        Assert.All(processes, pid => Assert.False(Directory.Exists($"/proc/{pid}") && !IsZombie(pid), $"process {pid} survived"));
        Assert.False(Directory.Exists(Path.Combine(fixture.StateDirectory, sandbox.Id)));
    }

    [Fact]
    public async Task CleanOrphans_AfterACrash_KillsWhatWasLeftAndRemovesIt()
    {
        var sandbox = await fixture.Backend.CreateAsync(new SandboxSpec(), Ct);
        var processes = fixture.Backend.Processes(sandbox.Id);

        // A second backend over the same state directory plays the orchestrator restarted after a crash.
        await using var restarted = new Bubblewrap.BubblewrapBackend(new Bubblewrap.BubblewrapOptions
        {
            StateDirectory = fixture.StateDirectory,
            RunableDirectory = SandboxFixture.RunableDirectory(),
        }, Microsoft.Extensions.Logging.Abstractions.NullLogger<Bubblewrap.BubblewrapBackend>.Instance);
        Assert.True(await restarted.CleanOrphansAsync(Ct) >= 1);

        Assert.All(processes, pid => Assert.False(Directory.Exists($"/proc/{pid}") && !IsZombie(pid), $"process {pid} survived"));
        Assert.False(Directory.Exists(Path.Combine(fixture.StateDirectory, sandbox.Id)));
        Assert.DoesNotContain(sandbox.Id, Cgroups.SandboxCgroup.ExistingIds());
        await fixture.Backend.DestroyAsync(sandbox.Id, Ct);
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }
}
