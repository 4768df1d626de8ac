using Runable.Box.Protocol.Processes;
using Runable.Box.Protocol.Shell;

namespace Runable.Box.Server.Tests.Processes;

public sealed class BoxShutdownTests
{
    [Fact]
    public async Task Box_Stopping_KillsEveryProcessGroupItStarted()
    {
        var box = new BoxServerFixture();
        await box.InitializeAsync();
        var background = await box.Client.StartProcessAsync(new ProcessStartRequest { Command = "sleep 300 & sleep 300" }, TestContext.Current.CancellationToken);
        var timedOut = await box.Client.ExecAsync(new ShellExecRequest { Command = "sleep 300", TimeoutS = 0.2 }, TestContext.Current.CancellationToken);
        var session = await box.Client.CreateSessionAsync(cancellationToken: TestContext.Current.CancellationToken);
        var shell = await box.Client.ExecAsync("sleep 300 & echo $$", sessionId: session.SessionId, cancellationToken: TestContext.Current.CancellationToken);
        var groups = new[]
        {
            background.Pid,
            (await box.Client.GetProcessAsync(timedOut.ProcessId!, TestContext.Current.CancellationToken)).Pid,
            int.Parse(shell.Stdout.Trim()),
        };
        Assert.All(groups, g => Assert.NotEmpty(ProcessGroups.Members(g)));

        await box.DisposeAsync();

        foreach (var group in groups)
        {
            Assert.True(await ProcessGroups.WaitUntilGoneAsync(group, TimeSpan.FromSeconds(5)), $"group {group} outlived the box");
        }
    }
}
