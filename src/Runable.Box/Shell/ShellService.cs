using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Runable.Box.Processes;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Shell;

namespace Runable.Box.Shell;

/// <summary>
/// Runs shell commands: one-off <c>bash -c</c> or in persistent sessions, with a timeout that hands back a
/// handle (or kills the process group) instead of failing, and output capped inline with the rest spooled.
/// </summary>
public sealed class ShellService : IDisposable
{
    private readonly ConcurrentDictionary<string, ShellSession> _sessions = new(StringComparer.Ordinal);
    private readonly ProcessSupervisor _supervisor;
    private readonly BoxState _state;
    private readonly TimeProvider _time;

    public ShellService(ProcessSupervisor supervisor, TimeProvider time)
    {
        _supervisor = supervisor;
        _state = supervisor.State;
        _time = time;
    }

    /// <summary>Runs a command and waits for it, or for its timeout.</summary>
    public async Task<ShellExecResult> ExecAsync(ShellExecRequest request, CancellationToken cancellationToken = default)
    {
        var command = await StartAsync(request, cancellationToken).ConfigureAwait(false);
        return await WaitAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Validates and starts a command; its output starts flowing into its process's spools at once.</summary>
    public async Task<ShellCommand> StartAsync(ShellExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Command))
        {
            throw BoxException.InvalidArgument("command is required: the bash command line to run.");
        }

        var timeout = ResolveTimeout(request.TimeoutS ?? request.Timeout);
        var onTimeout = request.OnTimeout ?? OnTimeout.Background;
        var start = _time.GetTimestamp();
        if (request.SessionId is null)
        {
            var process = _supervisor.Start(request.Command, request.Cwd, request.Env, origin: "exec");
            if (request.Stdin is { } stdin)
            {
                _ = WriteStdinAndCloseAsync(process, stdin);
            }
            else
            {
                process.CloseStdin();
            }

            return new ShellCommand(process, timeout, onTimeout, session: null, sessionReset: false, start);
        }

        var session = GetSession(request.SessionId);
        var cwd = request.Cwd is null ? null : _state.ResolveWorkingDirectory(request.Cwd);
        if (request.Command.Contains('\0', StringComparison.Ordinal))
        {
            throw BoxException.InvalidArgument("command must not contain NUL bytes.");
        }

        await session.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var entry = _supervisor.Create(request.Command, origin: "session");
            var reset = await session.BeginAsync(entry, request, cwd, cancellationToken).ConfigureAwait(false);
            return new ShellCommand(entry, timeout, onTimeout, session, reset, start);
        }
        catch
        {
            session.Lock.Release();
            throw;
        }
    }

    /// <summary>
    /// Waits for a started command until it ends or its timeout passes. On timeout the process is kept running
    /// (its handle is returned) or its whole group is killed, as the command asked; either way the result holds
    /// the output so far. If <paramref name="cancellationToken"/> fires (the caller went away), the same rule applies.
    /// </summary>
    public async Task<ShellExecResult> WaitAsync(ShellCommand command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var process = command.Process;
        var timedOut = false;
        string? note = null;
        try
        {
            try
            {
                await process.Exited.WaitAsync(command.Timeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                timedOut = true;
            }
            catch (OperationCanceledException)
            {
                await OnTimeoutAsync(command).ConfigureAwait(false);
                throw;
            }

            if (timedOut)
            {
                note = await OnTimeoutAsync(command).ConfigureAwait(false);
            }
            else if (command.Session is { ShellHasExited: true })
            {
                await command.Session.ReplaceShellAsync(killOld: false, CancellationToken.None).ConfigureAwait(false);
                command.SessionReset = true;
                note = "The command ended the session's shell; a new shell was started with the same directory and exported variables.";
            }
        }
        finally
        {
            command.Session?.Lock.Release();
        }

        if (process.HasExited)
        {
            await process.WaitForOutputAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var inline = _state.Options.InlineOutputBytes;
        var stdout = InlineOutput.Read(process, process.Stdout, "stdout", inline);
        var stderr = InlineOutput.Read(process, process.Stderr, "stderr", inline);
        var truncated = stdout.Truncated || stderr.Truncated;
        if (truncated)
        {
            note = Join(note, $"Output longer than {inline} bytes per stream was cut (head and tail kept); the whole of it is at GET /processes/{process.Id}/output?stream=stdout|stderr&offset=N.");
        }

        return new ShellExecResult
        {
            ExitCode = process.HasExited ? process.Exited.Result : null,
            Stdout = stdout.Text,
            Stderr = stderr.Text,
            TimedOut = timedOut,
            Truncated = truncated,
            DurationMs = (long)_time.GetElapsedTime(command.StartTimestamp).TotalMilliseconds,
            ProcessId = process.Id,
            StdoutBytes = process.Stdout.Length,
            StderrBytes = process.Stderr.Length,
            SessionReset = command.Session is null ? null : command.SessionReset,
            Note = note,
        };
    }

    /// <summary>Opens a persistent shell session.</summary>
    public ShellSessionInfo CreateSession(ShellSessionRequest? request)
    {
        if (_sessions.Count >= _state.Options.MaxSessions)
        {
            throw new BoxException(BoxErrorKind.LimitReached, BoxErrorCodes.TooManyProcesses,
                $"The box already has {_sessions.Count} shell sessions (limit {_state.Options.MaxSessions}); close some with DELETE /shell/sessions/{{id}}.");
        }

        var cwd = _state.ResolveWorkingDirectory(request?.Cwd);
        var environment = _state.CommandEnvironment(request?.Env);
        var id = "sess_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var session = new ShellSession(id, _state, cwd, environment, _time.GetUtcNow());
        _sessions[id] = session;
        return session.ToInfo();
    }

    /// <summary>The open sessions.</summary>
    public IReadOnlyList<ShellSessionInfo> ListSessions() =>
        _sessions.Values.OrderBy(s => s.CreatedAt).Select(s => s.ToInfo()).ToList();

    /// <summary>Closes a session, killing its shell and everything running in it.</summary>
    public void DeleteSession(string id)
    {
        if (!_sessions.TryRemove(id, out var session))
        {
            throw SessionNotFound(id);
        }

        session.Dispose();
    }

    public void Dispose()
    {
        foreach (var session in _sessions.Values)
        {
            session.Dispose();
        }

        _sessions.Clear();
    }

    private ShellSession GetSession(string id) =>
        _sessions.TryGetValue(id, out var session) ? session : throw SessionNotFound(id);

    private static BoxException SessionNotFound(string id) =>
        BoxException.NotFound(BoxErrorCodes.SessionNotFound, $"No shell session '{id}'; create one with POST /shell/sessions.");

    private TimeSpan ResolveTimeout(double? seconds)
    {
        var value = seconds ?? _state.Options.DefaultTimeoutSeconds;
        if (double.IsNaN(value) || value <= 0 || value > _state.Options.MaxTimeoutSeconds)
        {
            throw BoxException.InvalidArgument($"timeout_s must be more than 0 and at most {_state.Options.MaxTimeoutSeconds} seconds.");
        }

        return TimeSpan.FromSeconds(value);
    }

    private async Task<string> OnTimeoutAsync(ShellCommand command)
    {
        var process = command.Process;
        if (command.OnTimeout == OnTimeout.Kill)
        {
            if (command.Session is not null)
            {
                await command.Session.ReplaceShellAsync(killOld: true, CancellationToken.None).ConfigureAwait(false);
                command.SessionReset = true;
            }
            else
            {
                process.KillGroup();
            }

            try
            {
                await process.Exited.WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Unkillable (uninterruptible sleep); reported as still running.
            }

            return command.Session is null
                ? $"Timed out after {command.Timeout.TotalSeconds:0.###} s; the command and every process of its group were killed."
                : $"Timed out after {command.Timeout.TotalSeconds:0.###} s; the command was killed and the session moved to a new shell with the same directory and exported variables.";
        }

        if (command.Session is not null)
        {
            await command.Session.ReplaceShellAsync(killOld: false, CancellationToken.None).ConfigureAwait(false);
            command.SessionReset = true;
            return $"Timed out after {command.Timeout.TotalSeconds:0.###} s; the command keeps running as process {process.Id} (follow it at GET /processes/{process.Id}/output), and the session moved to a new shell with the same directory and exported variables.";
        }

        return $"Timed out after {command.Timeout.TotalSeconds:0.###} s; the command keeps running as process {process.Id}: follow it at GET /processes/{process.Id}/output, stop it with POST /processes/{process.Id}/signal.";
    }

    private static async Task WriteStdinAndCloseAsync(SupervisedProcess process, string stdin)
    {
        try
        {
            await process.WriteStdinAsync(Encoding.UTF8.GetBytes(stdin), close: true).ConfigureAwait(false);
        }
        catch (BoxException)
        {
            // The command exited or closed its input before reading it all, as 'head' does.
        }
    }

    private static string? Join(string? first, string second) => first is null ? second : $"{first} {second}";
}
