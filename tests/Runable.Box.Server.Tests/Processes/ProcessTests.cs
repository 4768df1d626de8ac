using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Runable.Box.Native;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Processes;

namespace Runable.Box.Server.Tests.Processes;

public sealed class ProcessTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Process_StdinThenClose_IsEchoedAndExits()
    {
        var started = await box.Client.StartProcessAsync(new ProcessStartRequest { Command = "cat; echo closed" }, Ct);
        Assert.True(started.Pid > 1);
        await box.Client.WriteStdinAsync(started.ProcessId, "line one\n", cancellationToken: Ct);
        await box.Client.WriteStdinAsync(started.ProcessId, "line two\n", close: true, cancellationToken: Ct);
        var info = await box.Client.WaitForExitAsync(started.ProcessId, cancellationToken: Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(0, info.ExitCode);
        Assert.NotNull(info.EndedAt);
        var output = await box.Client.ReadOutputAsync(started.ProcessId, cancellationToken: Ct);
        Assert.Equal("line one\nline two\nclosed\n", output.Data);
        Assert.True(output.Eof);
    }

    [Fact]
    public async Task Process_SignalInt_RunsItsTrapAndReportsTheExitCode()
    {
        var started = await box.Client.StartProcessAsync(new ProcessStartRequest
        {
            Command = "trap 'echo got INT; exit 7' INT; echo ready; while true; do sleep 0.05; done",
        }, Ct);
        await WaitForOutputAsync(started.ProcessId, "ready");
        await box.Client.SignalAsync(started.ProcessId, "INT", Ct);
        var info = await box.Client.WaitForExitAsync(started.ProcessId, cancellationToken: Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(7, info.ExitCode);
        Assert.Contains("got INT", (await box.Client.ReadOutputAsync(started.ProcessId, cancellationToken: Ct)).Data);
    }

    [Fact]
    public async Task Process_SignalKill_KillsTheWholeGroup()
    {
        var started = await box.Client.StartProcessAsync(new ProcessStartRequest { Command = "sleep 300 & sleep 300 & wait" }, Ct);
        await Task.Delay(200, Ct);
        Assert.True(ProcessGroups.Members(started.Pid).Count >= 3);
        await box.Client.SignalAsync(started.ProcessId, "KILL", Ct);
        var info = await box.Client.WaitForExitAsync(started.ProcessId, cancellationToken: Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(137, info.ExitCode);
        Assert.True(await ProcessGroups.WaitUntilGoneAsync(started.Pid, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Process_UnknownSignal_Returns400()
    {
        var started = await box.Client.StartProcessAsync(new ProcessStartRequest { Command = "sleep 5" }, Ct);
        var error = await Assert.ThrowsAsync<BoxException>(() => box.Client.SignalAsync(started.ProcessId, "SEGFAULTPLEASE", Ct));
        Assert.Equal(BoxErrorCodes.InvalidArgument, error.Code);
        await box.Client.SignalAsync(started.ProcessId, "KILL", Ct);
    }

    [Fact]
    public async Task Signal_RightAfterTheStart_ReachesTheProcess()
    {
        // The supervisor itself (no HTTP in between): the signal can come before the child has made its own
        // process group, which used to answer "no process is running any more".
        var supervisor = box.Services.GetRequiredService<Runable.Box.Processes.ProcessSupervisor>();
        for (var i = 0; i < 50; i++)
        {
            var process = supervisor.Start("sleep 30", null, null);
            process.Signal(ProcessInterop.SIGKILL);
            var info = await box.Client.WaitForExitAsync(process.Id, cancellationToken: Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
            Assert.Equal(137, info.ExitCode);
        }
    }

    [Fact]
    public async Task Process_Follow_StreamsOutputUntilEof()
    {
        var started = await box.Client.StartProcessAsync(new ProcessStartRequest { Command = "for i in 1 2 3 4; do echo n$i; sleep 0.1; done" }, Ct);
        var text = new StringBuilder();
        var sawEof = false;
        await foreach (var item in box.Client.FollowOutputAsync(started.ProcessId, cancellationToken: Ct).WithCancellation(Ct))
        {
            if (item.EventType == "eof")
            {
                sawEof = true;
                break;
            }

            text.Append(item.Data);
        }

        Assert.True(sawEof);
        Assert.Equal("n1\nn2\nn3\nn4\n", text.ToString());
    }

    [Fact]
    public async Task Process_OutputPaging_ByOffsetCoversEverythingOnce()
    {
        var started = await box.Client.StartProcessAsync(new ProcessStartRequest { Command = "for i in $(seq 1 2000); do echo \"línea $i ✓\"; done" }, Ct);
        await box.Client.WaitForExitAsync(started.ProcessId, cancellationToken: Ct);
        var text = new StringBuilder();
        long offset = 0;
        while (true)
        {
            // An odd page size cuts through multi-byte characters; the server must back off to a boundary.
            var page = await box.Client.ReadOutputAsync(started.ProcessId, offset: offset, limit: 997, cancellationToken: Ct);
            text.Append(page.Data);
            Assert.True(page.NextOffset > offset || page.Eof);
            offset = page.NextOffset;
            if (page.Eof)
            {
                break;
            }
        }

        var expected = string.Concat(Enumerable.Range(1, 2000).Select(i => $"línea {i} ✓\n"));
        Assert.Equal(expected, text.ToString());
    }

    [Fact]
    public async Task Process_List_SurvivesTheClientThatStartedIt()
    {
        string id;
        using (var other = new Client.BoxClient(box.BaseAddress, BoxServerFixture.ApiKey))
        {
            id = (await other.StartProcessAsync(new ProcessStartRequest { Command = "sleep 30" }, Ct)).ProcessId;
        }

        var list = await box.Client.ListProcessesAsync(Ct);
        var entry = Assert.Single(list, p => p.ProcessId == id);
        Assert.Equal(ProcessStatus.Running, entry.Status);
        Assert.Equal("sleep 30", entry.Command);
        await box.Client.SignalAsync(id, "KILL", Ct);
    }

    [Fact]
    public async Task Process_Unknown_Returns404ProcessNotFound()
    {
        var error = await Assert.ThrowsAsync<BoxException>(() => box.Client.GetProcessAsync("proc_doesnotexist", Ct));
        Assert.Equal(BoxErrorCodes.ProcessNotFound, error.Code);
    }

    [Fact]
    public async Task Process_StdinAfterExit_Returns409()
    {
        var started = await box.Client.StartProcessAsync(new ProcessStartRequest { Command = "true" }, Ct);
        await box.Client.WaitForExitAsync(started.ProcessId, cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<BoxException>(() => box.Client.WriteStdinAsync(started.ProcessId, "late", cancellationToken: Ct));
        Assert.Equal(BoxErrorCodes.ProcessNotRunning, error.Code);
    }

    private async Task WaitForOutputAsync(string processId, string text)
    {
        for (var i = 0; i < 200; i++)
        {
            if ((await box.Client.ReadOutputAsync(processId, cancellationToken: Ct)).Data.Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(25, Ct);
        }

        throw new TimeoutException($"'{text}' never appeared in the output of {processId}");
    }
}
