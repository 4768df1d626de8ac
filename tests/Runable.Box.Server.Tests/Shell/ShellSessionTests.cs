using Runable.Box.Protocol;
using Runable.Box.Protocol.Processes;
using Runable.Box.Protocol.Shell;

namespace Runable.Box.Server.Tests.Shell;

public sealed class ShellSessionTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Session_CdThenPwd_KeepsTheDirectory()
    {
        Directory.CreateDirectory(Path.Combine(box.Workspace, "deep", "er"));
        var session = await box.Client.CreateSessionAsync(cancellationToken: Ct);
        await box.Client.ExecAsync("cd deep/er", sessionId: session.SessionId, cancellationToken: Ct);
        var pwd = await box.Client.ExecAsync("pwd", sessionId: session.SessionId, cancellationToken: Ct);
        Assert.Equal($"{box.Workspace}/deep/er\n", pwd.Stdout);
        Assert.False(pwd.SessionReset);
    }

    [Fact]
    public async Task Session_ExportAndShellVariables_Persist()
    {
        var session = await box.Client.CreateSessionAsync(cancellationToken: Ct);
        await box.Client.ExecAsync("export GREETING=hello; COUNT=41; greet() { echo \"hi $1\"; }", sessionId: session.SessionId, cancellationToken: Ct);
        var result = await box.Client.ExecAsync("echo $GREETING $((COUNT + 1)); greet you; bash -c 'echo child sees $GREETING'",
            sessionId: session.SessionId, cancellationToken: Ct);
        Assert.Equal("hello 42\nhi you\nchild sees hello\n", result.Stdout);
    }

    [Fact]
    public async Task Session_OutputWithoutNewlineBinaryAndMarkerLookalikes_IsDelimitedExactly()
    {
        var session = await box.Client.CreateSessionAsync(cancellationToken: Ct);
        var first = await box.Client.ExecAsync(@"printf 'no newline \036RUNABLE:0000:0\036 \001\002'; printf 'E\036' >&2; false",
            sessionId: session.SessionId, cancellationToken: Ct);
        Assert.Equal("no newline \u001eRUNABLE:0000:0\u001e \u0001\u0002", first.Stdout);
        Assert.Equal("E\u001e", first.Stderr);
        Assert.Equal(1, first.ExitCode);
        var second = await box.Client.ExecAsync("echo next", sessionId: session.SessionId, cancellationToken: Ct);
        Assert.Equal("next\n", second.Stdout);
        Assert.Equal(0, second.ExitCode);
    }

    [Fact]
    public async Task Session_CommandReadingStdin_DoesNotEatTheSession()
    {
        var session = await box.Client.CreateSessionAsync(cancellationToken: Ct);
        var read = await box.Client.ExecAsync(new ShellExecRequest { Command = "cat; read -r x || echo eof", SessionId = session.SessionId, Stdin = "piped\n" }, Ct);
        Assert.Equal("piped\neof\n", read.Stdout);
        var after = await box.Client.ExecAsync("echo alive", sessionId: session.SessionId, cancellationToken: Ct);
        Assert.Equal("alive\n", after.Stdout);
    }

    [Fact]
    public async Task Session_CommandThatNeverEnds_TimesOutAndSessionStaysUsable()
    {
        Directory.CreateDirectory(Path.Combine(box.Workspace, "keep"));
        var session = await box.Client.CreateSessionAsync(cancellationToken: Ct);
        await box.Client.ExecAsync("cd keep; export KEPT=yes", sessionId: session.SessionId, cancellationToken: Ct);

        var stuck = await box.Client.ExecAsync(new ShellExecRequest
        {
            Command = "echo before; while true; do :; done",
            SessionId = session.SessionId,
            TimeoutS = 0.5,
            OnTimeout = OnTimeout.Kill,
        }, Ct);
        Assert.True(stuck.TimedOut);
        Assert.True(stuck.SessionReset);
        Assert.Equal("before\n", stuck.Stdout);

        var after = await box.Client.ExecAsync("pwd; echo $KEPT", sessionId: session.SessionId, timeoutSeconds: 10, cancellationToken: Ct);
        Assert.Equal($"{box.Workspace}/keep\nyes\n", after.Stdout);
        Assert.Equal(0, after.ExitCode);
    }

    [Fact]
    public async Task Session_TimeoutInBackgroundMode_KeepsTheCommandRunningAsAProcess()
    {
        var session = await box.Client.CreateSessionAsync(cancellationToken: Ct);
        var slow = await box.Client.ExecAsync(new ShellExecRequest
        {
            Command = "sleep 1; echo finished late; exit 5",
            SessionId = session.SessionId,
            TimeoutS = 0.3,
        }, Ct);
        Assert.True(slow.TimedOut);
        Assert.True(slow.SessionReset);

        var meanwhile = await box.Client.ExecAsync("echo session free", sessionId: session.SessionId, cancellationToken: Ct);
        Assert.Equal("session free\n", meanwhile.Stdout);

        var done = await box.Client.WaitForExitAsync(slow.ProcessId!, cancellationToken: Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(5, done.ExitCode);
        var output = await box.Client.ReadOutputAsync(slow.ProcessId!, cancellationToken: Ct);
        Assert.Equal("finished late\n", output.Data);
    }

    [Fact]
    public async Task Session_CommandThatExitsTheShell_ReportsResetAndKeepsState()
    {
        var session = await box.Client.CreateSessionAsync(cancellationToken: Ct);
        await box.Client.ExecAsync("export MARK=1; cd /tmp", sessionId: session.SessionId, cancellationToken: Ct);
        var exited = await box.Client.ExecAsync("echo bye; exit 3", sessionId: session.SessionId, cancellationToken: Ct);
        Assert.Equal(3, exited.ExitCode);
        Assert.Equal("bye\n", exited.Stdout);
        Assert.True(exited.SessionReset);

        var after = await box.Client.ExecAsync("pwd; echo $MARK", sessionId: session.SessionId, cancellationToken: Ct);
        Assert.Equal("/tmp\n1\n", after.Stdout);
    }

    [Fact]
    public async Task Session_ConcurrentCalls_RunInOrder()
    {
        var session = await box.Client.CreateSessionAsync(cancellationToken: Ct);
        await box.Client.ExecAsync("N=0", sessionId: session.SessionId, cancellationToken: Ct);
        var calls = Enumerable.Range(0, 10).Select(_ => box.Client.ExecAsync("N=$((N+1)); echo $N", sessionId: session.SessionId, cancellationToken: Ct));
        var results = await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"{i}\n").Order(), results.Select(r => r.Stdout).Order());
    }

    [Fact]
    public async Task Session_Deleted_KillsItsShellAndIsGone()
    {
        var session = await box.Client.CreateSessionAsync(cancellationToken: Ct);
        var running = await box.Client.ExecAsync(new ShellExecRequest { Command = "sleep 300", SessionId = session.SessionId, TimeoutS = 0.2 }, Ct);
        var shellPid = (await box.Client.GetProcessAsync(running.ProcessId!, Ct)).Pid;
        var marker = await box.Client.ExecAsync("echo $$", sessionId: session.SessionId, cancellationToken: Ct);
        var newShellPid = int.Parse(marker.Stdout.Trim());

        await box.Client.DeleteSessionAsync(session.SessionId, Ct);
        Assert.True(await ProcessGroups.WaitUntilGoneAsync(newShellPid, TimeSpan.FromSeconds(5)));
        var error = await Assert.ThrowsAsync<BoxException>(() => box.Client.ExecAsync("true", sessionId: session.SessionId, cancellationToken: Ct));
        Assert.Equal(BoxErrorCodes.SessionNotFound, error.Code);
        await box.Client.SignalAsync(running.ProcessId!, "KILL", Ct);
        Assert.True(await ProcessGroups.WaitUntilGoneAsync(shellPid, TimeSpan.FromSeconds(5)));
        Assert.Equal(ProcessStatus.Exited, (await box.Client.WaitForExitAsync(running.ProcessId!, cancellationToken: Ct)).Status);
    }

    [Fact]
    public async Task Exec_UnknownSession_Returns404()
    {
        var error = await Assert.ThrowsAsync<BoxException>(() => box.Client.ExecAsync("true", sessionId: "sess_nope", cancellationToken: Ct));
        Assert.Equal(BoxErrorCodes.SessionNotFound, error.Code);
        Assert.Equal(404, error.Details["status"]);
    }
}
