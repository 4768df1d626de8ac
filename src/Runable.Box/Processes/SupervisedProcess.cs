using Runable.Box.Native;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Processes;

namespace Runable.Box.Processes;

/// <summary>
/// A process the supervisor tracks: its identity, its status, and its output spooled to disk. It may be a
/// child of its own (<c>POST /processes</c>, <c>/shell/exec</c>) or a command running in a session's shell.
/// </summary>
public sealed class SupervisedProcess : IDisposable
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeProvider _time;
    private static readonly TimeSpan s_backgroundGrace = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_drainLimit = TimeSpan.FromSeconds(10);
    private ChildProcess? _child;
    private DateTimeOffset? _endedAt;

    internal SupervisedProcess(string id, string command, string origin, string spoolDirectory, long spoolBytes, TimeProvider time)
    {
        Id = id;
        Command = command;
        Origin = origin;
        SpoolDirectory = spoolDirectory;
        _time = time;
        StartedAt = time.GetUtcNow();
        Stdout = new OutputSpool(spoolDirectory, "stdout", spoolBytes);
        Stderr = new OutputSpool(spoolDirectory, "stderr", spoolBytes);
    }

    public string Id { get; }

    public string Command { get; }

    /// <summary><c>process</c>, <c>exec</c> or <c>session</c>.</summary>
    public string Origin { get; }

    /// <summary>The process group the command runs in (for a session command, the session shell's).</summary>
    public int Pid { get; private set; }

    public DateTimeOffset StartedAt { get; }

    public OutputSpool Stdout { get; }

    public OutputSpool Stderr { get; }

    internal string SpoolDirectory { get; }

    /// <summary>Completes with the exit code when the command ends.</summary>
    public Task<int> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Completes when the command has ended and its output streams are closed (or after a short grace, see <see cref="WaitForOutputAsync"/>).</summary>
    public Task OutputClosed => _child?.OutputClosed ?? Task.WhenAll(Stdout.IsCompleted ? Task.CompletedTask : WhenCompleted(Stdout),
        Stderr.IsCompleted ? Task.CompletedTask : WhenCompleted(Stderr));

    /// <summary>The output spool of a stream by name (<c>stdout</c> or <c>stderr</c>).</summary>
    public OutputSpool Stream(string? name) => name switch
    {
        null or "" or "stdout" => Stdout,
        "stderr" => Stderr,
        _ => throw BoxException.InvalidArgument($"stream must be 'stdout' or 'stderr', not '{name}'."),
    };

    internal void Attach(ChildProcess child)
    {
        _child = child;
        Pid = child.Pid;
        _ = child.Exited.ContinueWith(t => MarkExited(t.Result), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    internal void AttachGroup(int pid) => Pid = pid;

    /// <summary>Records the exit code; the first call wins.</summary>
    internal void MarkExited(int exitCode)
    {
        lock (_gate)
        {
            if (_exited.Task.IsCompleted)
            {
                return;
            }

            _endedAt = _time.GetUtcNow();
        }

        _exited.TrySetResult(exitCode);
    }

    /// <summary>
    /// After exit, waits until the output is read to its end. While a process the command left running in the
    /// background holds the pipes (its group still has members) that may be never, so the wait is short; otherwise
    /// only the reading is behind (a busy machine) and it is waited for, up to a bound.
    /// </summary>
    public async Task WaitForOutputAsync(CancellationToken cancellationToken = default)
    {
        var grace = Pid > 1 && ProcessInterop.GroupExists(Pid) ? s_backgroundGrace : s_drainLimit;
        try
        {
            await OutputClosed.WaitAsync(grace, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Something the command started still holds the pipes; its output keeps flowing into the spool.
        }
    }

    /// <summary>Writes to the process's standard input.</summary>
    public async Task WriteStdinAsync(ReadOnlyMemory<byte> data, bool close, CancellationToken cancellationToken = default)
    {
        if (_child is null)
        {
            throw new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.ProcessNotRunning,
                $"Process {Id} runs in a shell session and takes no standard input; pass 'stdin' with the command instead.");
        }

        if (HasExited)
        {
            throw new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.ProcessNotRunning, $"Process {Id} has exited.");
        }

        if (!data.IsEmpty && !await _child.WriteStdinAsync(data, cancellationToken).ConfigureAwait(false))
        {
            throw new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.ProcessNotRunning,
                $"Process {Id} no longer reads its standard input (it was closed).");
        }

        if (close)
        {
            _child.CloseStdin();
        }
    }

    /// <summary>Closes standard input (the process reads end of file); nothing happens when it is already closed or gone.</summary>
    public void CloseStdin() => _child?.CloseStdin();

    /// <summary>Sends a signal to the process's whole group.</summary>
    public void Signal(int signal)
    {
        if (Pid <= 1 || !(_child?.SignalGroup(signal) ?? ProcessInterop.SignalGroup(Pid, signal)))
        {
            throw new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.ProcessNotRunning,
                $"No process of {Id}'s group is running any more.");
        }
    }

    /// <summary>Kills the process's whole group, if any of it is left.</summary>
    public void KillGroup()
    {
        if (_child is not null)
        {
            _child.KillGroup();
        }
        else if (Pid > 1)
        {
            ProcessInterop.SignalGroup(Pid, ProcessInterop.SIGKILL);
        }
    }

    /// <summary>A snapshot for the API.</summary>
    public ProcessInfo ToInfo()
    {
        DateTimeOffset? ended;
        lock (_gate)
        {
            ended = _endedAt;
        }

        return new ProcessInfo
        {
            ProcessId = Id,
            Command = Command,
            Origin = Origin,
            Pid = Pid,
            Status = HasExited ? ProcessStatus.Exited : ProcessStatus.Running,
            ExitCode = HasExited ? _exited.Task.Result : null,
            StartedAt = StartedAt,
            EndedAt = ended,
            StdoutBytes = Stdout.Length,
            StderrBytes = Stderr.Length,
            StdoutDroppedBytes = Stdout.DroppedBytes,
            StderrDroppedBytes = Stderr.DroppedBytes,
        };
    }

    public void Dispose()
    {
        if (!HasExited)
        {
            KillGroup();
        }

        _child?.Dispose();
        Stdout.Dispose();
        Stderr.Dispose();
        try
        {
            if (Directory.Exists(SpoolDirectory))
            {
                Directory.Delete(SpoolDirectory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    private static async Task WhenCompleted(OutputSpool spool)
    {
        while (!spool.IsCompleted)
        {
            await spool.Changed.ConfigureAwait(false);
        }
    }
}
