using System.Globalization;
using System.Text;
using Runable.Box.Client;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Shell;

namespace Runable.Orchestrator.Agents.Tools;

/// <summary>
/// <c>bash</c>: a persistent shell session in the sandbox. A command that outlives the timeout is killed and the box moves
/// the session to a new shell in the same directory with the same exported variables; the model reads that as an observation.
/// </summary>
internal sealed class BashTool : BoxTool, IAsyncDisposable
{
    private const string Schema = """
        {
          "type": "object",
          "properties": {
            "command": {"type": "string", "description": "The bash command to run. Required unless the tool is being restarted."},
            "restart": {"type": "boolean", "description": "Specifying true will restart this tool: a fresh shell in the workspace, with the variables and directory changes of earlier commands gone."}
          }
        }
        """;

    private const int PageBytes = 1024 * 1024;
    private readonly BoxClient _box;
    private readonly AgentToolOptions _options;
    private readonly OutputLimiter _limiter;
    private readonly SemaphoreSlim _sessionLock = new(1, 1);
    private string? _sessionId;

    public BashTool(BoxClient box, AgentToolOptions options, OutputLimiter limiter, string? sessionId, string workspace, TimeProvider time)
        : base("bash", Describe(options, workspace), Schema, time)
    {
        _sessionId = sessionId;
        _box = box;
        _options = options;
        _limiter = limiter;
    }

    protected override async Task<ToolResult> ExecuteAsync(ToolArguments arguments, CancellationToken cancellationToken)
    {
        var command = arguments.String("command");
        var restart = arguments.Bool("restart") ?? false;
        if (string.IsNullOrWhiteSpace(command) && !restart)
        {
            throw new ToolArgumentException("command is required: the bash command line to run (or restart: true for a fresh shell).");
        }

        string? restarted = null;
        if (restart)
        {
            restarted = await RestartAsync(cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(command))
            {
                return new ToolResult { Text = restarted };
            }
        }

        var result = await ExecInSessionAsync(command!, cancellationToken).ConfigureAwait(false);
        var body = await FullOutputAsync(result, cancellationToken).ConfigureAwait(false);
        var limited = await _limiter.LimitAsync(Name, body, cancellationToken).ConfigureAwait(false);

        var text = new StringBuilder();
        var seconds = _options.BashTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        if (result.TimedOut)
        {
            text.Append("Error: the command did not finish within ").Append(seconds)
                .Append(" s and was killed with everything it started. The session moved to a new shell in the same directory with the same exported variables ")
                .Append("(plain variables and functions are lost). Run long jobs in the background (cmd > /tmp/job.log 2>&1 &) and check on them later.\n");
            text.Append(limited.Text.Length == 0 ? "(no output before the timeout)" : "Output before the timeout:\n" + limited.Text);
            if (restarted is not null)
            {
                text.Append(text[^1] == '\n' ? "" : "\n").Append('[').Append(restarted).Append(']');
            }
        }
        else
        {
            if (restarted is not null)
            {
                text.Append(restarted).Append('\n');
            }

            text.Append(limited.Text.Length == 0 ? "(no output)" : limited.Text);
            if (text[^1] != '\n')
            {
                text.Append('\n');
            }

            text.Append("[exit code: ").Append(result.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown").Append(']');
            if (result.SessionReset == true)
            {
                text.Append("\n[the command ended the shell; a new shell was started in the same directory with the same exported variables]");
            }
        }

        return new ToolResult { Text = text.ToString(), IsError = result.TimedOut, Truncated = limited.Truncated, FullOutputPath = limited.SavedPath };
    }

    public async ValueTask DisposeAsync()
    {
        if (_sessionId is { } id)
        {
            _sessionId = null;
            try
            {
                await _box.DeleteSessionAsync(id).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BoxException or HttpRequestException)
            {
                // The sandbox is gone or the session with it; nothing is left to close.
            }
        }

        _sessionLock.Dispose();
    }

    private static string Describe(AgentToolOptions options, string workspace) =>
        $"""
        Run commands in a bash shell inside the sandbox, a Linux machine of its own (network access only where the task's sandbox allows it).
        * The shell is persistent: the working directory, exported and plain variables and functions carry over between calls. It starts in the workspace, {workspace}, which holds the files of the task.
        * Each call returns stdout, then stderr under a [stderr] line, and the exit code.
        * A command may run for at most {options.BashTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s; then it is killed and the session continues in a new shell (same directory and exported variables). Start servers and long jobs in the background: `cmd > /tmp/job.log 2>&1 &`.
        * Commands cannot be interactive: pass flags such as -y, and avoid editors and pagers (use `git --no-pager`, `less` will not work).
        * Long output is cut to its first and last lines; the whole of it is saved in a file under {options.OutputDirectory}, whose name the cut output gives, to read with sed -n or grep.
        * restart: true gives a fresh shell.
        """;

    private async Task<ShellExecResult> ExecInSessionAsync(string command, CancellationToken cancellationToken)
    {
        var sessionId = await SessionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ExecAsync(command, sessionId, cancellationToken).ConfigureAwait(false);
        }
        catch (BoxException e) when (e.Code == BoxErrorCodes.SessionNotFound)
        {
            // The box forgot the session (it was closed or the box restarted): the command never ran, so run it in a new one.
            Interlocked.CompareExchange(ref _sessionId, null, sessionId);
            sessionId = await SessionAsync(cancellationToken).ConfigureAwait(false);
            return await ExecAsync(command, sessionId, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task<ShellExecResult> ExecAsync(string command, string sessionId, CancellationToken cancellationToken) =>
        _box.ExecAsync(new ShellExecRequest
        {
            Command = command,
            SessionId = sessionId,
            TimeoutS = _options.BashTimeout.TotalSeconds,
            OnTimeout = OnTimeout.Kill,
        }, cancellationToken);

    private async Task<string> SessionAsync(CancellationToken cancellationToken)
    {
        await _sessionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _sessionId ??= (await _box.CreateSessionAsync(_options.SessionRequest(), cancellationToken).ConfigureAwait(false)).SessionId;
        }
        finally
        {
            _sessionLock.Release();
        }
    }

    private async Task<string> RestartAsync(CancellationToken cancellationToken)
    {
        await _sessionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_sessionId is { } old)
            {
                _sessionId = null;
                try
                {
                    await _box.DeleteSessionAsync(old, cancellationToken).ConfigureAwait(false);
                }
                catch (BoxException e) when (e.Code == BoxErrorCodes.SessionNotFound)
                {
                    // Already gone.
                }
            }

            var session = await _box.CreateSessionAsync(_options.SessionRequest(), cancellationToken).ConfigureAwait(false);
            _sessionId = session.SessionId;
            return $"The bash session was restarted: a fresh shell in {session.Cwd}.";
        }
        finally
        {
            _sessionLock.Release();
        }
    }

    /// <summary>Stdout, then stderr under a marker line; when the box cut either stream inline, the whole of it from the process's spool.</summary>
    private async Task<string> FullOutputAsync(ShellExecResult result, CancellationToken cancellationToken)
    {
        var stdout = result.Stdout;
        var stderr = result.Stderr;
        if (result.Truncated && result.ProcessId is { } processId)
        {
            stdout = await ReadStreamAsync(processId, "stdout", stdout, cancellationToken).ConfigureAwait(false);
            stderr = await ReadStreamAsync(processId, "stderr", stderr, cancellationToken).ConfigureAwait(false);
        }

        if (stderr.Length == 0)
        {
            return stdout;
        }

        var separator = stdout.Length == 0 || stdout[^1] == '\n' ? "" : "\n";
        return $"{stdout}{separator}[stderr]\n{stderr}";
    }

    private async Task<string> ReadStreamAsync(string processId, string stream, string inline, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        long offset = 0;
        try
        {
            while (text.Length < _options.MaxSavedOutputChars)
            {
                var page = await _box.ReadOutputAsync(processId, stream, offset, PageBytes, cancellationToken: cancellationToken).ConfigureAwait(false);
                text.Append(page.Data);
                if (page.Eof || page.NextOffset <= offset)
                {
                    return text.ToString();
                }

                offset = page.NextOffset;
            }
        }
        catch (BoxException e) when (e.Code == BoxErrorCodes.ProcessNotFound)
        {
            // The box already forgot the process (it keeps the newest exited ones); what came inline is all there is.
            return inline;
        }

        return text.Append($"\n[... {stream} continues beyond {_options.MaxSavedOutputChars} characters; not kept]\n").ToString();
    }
}
