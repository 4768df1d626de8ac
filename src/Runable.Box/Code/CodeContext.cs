using System.Diagnostics;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Code;

namespace Runable.Box.Code;

/// <summary>
/// A named, persistent place to run code: one kernel, started on first use, whose state carries over between
/// calls. Calls run one at a time in arrival order; a kernel that dies is reported and replaced on restart.
/// </summary>
internal sealed class CodeContext(string id, KernelLanguage language, string cwd, bool isDefault, BoxState state) : IAsyncDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly object _gate = new();
    private Kernel? _kernel;
    private string? _deathReason;
    private int _running;

    public string Id { get; } = id;

    public KernelLanguage Language { get; } = language;

    public CodeContextInfo Info()
    {
        lock (_gate)
        {
            var dead = _deathReason is not null;
            return new CodeContextInfo
            {
                ContextId = Id,
                Language = Language.Name,
                State = dead ? "dead" : _kernel is null ? "starting" : Volatile.Read(ref _running) > 0 ? "busy" : "idle",
                Cwd = cwd,
                IsDefault = isDefault,
                KernelId = _kernel?.Id,
                Error = _deathReason,
            };
        }
    }

    public async Task<CodeExecResult> ExecuteAsync(string code, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _running);
        try
        {
            var kernel = await KernelAsync(cancellationToken).ConfigureAwait(false);
            var watch = Stopwatch.StartNew();
            var (execution, timedOut, died) = await kernel.ExecuteAsync(code, timeout, cancellationToken).ConfigureAwait(false);
            var outputs = execution.Outputs().ToList();
            if (died)
            {
                var reason = MarkDead(kernel);
                outputs.Add(new CodeOutput { Type = "error", Ename = "KernelDied", Evalue = reason, Traceback = [$"KernelDied: {reason}"] });
            }
            else if (timedOut)
            {
                var note = $"Interrupted after {timeout.TotalSeconds:0.###} s (timeout_s); the context keeps its state.";
                outputs.Add(new CodeOutput { Type = "stream", Name = "stderr", Text = note + "\n" });
            }

            var (stdout, stderr) = Execution.Flatten(outputs);
            var status = timedOut ? "timeout" : died || execution.ReplyStatus != "ok" ? "error" : "ok";
            return new CodeExecResult
            {
                ContextId = Id,
                Status = status,
                ExecutionCount = execution.ExecutionCount,
                Outputs = outputs,
                Stdout = stdout,
                Stderr = stderr,
                ExitCode = status == "ok" ? 0 : 1,
                DurationMs = watch.ElapsedMilliseconds,
            };
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            _turn.Release();
        }
    }

    /// <summary>Interrupts what runs now (once the kernel has started running it); a no-op when nothing does.</summary>
    public Task InterruptAsync()
    {
        Kernel? kernel;
        lock (_gate)
        {
            kernel = _kernel;
        }

        return kernel?.InterruptAsync(expectRunning: Volatile.Read(ref _running) > 0) ?? Task.CompletedTask;
    }

    /// <summary>Replaces the kernel with a fresh one (all state is lost), whether it was alive or dead.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        Kernel? old;
        lock (_gate)
        {
            old = _kernel;
            _kernel = null;
            _deathReason = null;
        }

        // Whatever runs now is cut short by the kill; then the next call starts a new kernel.
        if (old is not null)
        {
            await old.DisposeAsync().ConfigureAwait(false);
        }

        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await KernelAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _turn.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kernel? kernel;
        lock (_gate)
        {
            kernel = _kernel;
            _kernel = null;
        }

        if (kernel is not null)
        {
            await kernel.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<Kernel> KernelAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_deathReason is { } reason)
            {
                throw Dead(reason);
            }

            if (_kernel is { } kernel)
            {
                return kernel.Exited.IsCompleted ? throw Dead(MarkDeadLocked(kernel)) : kernel;
            }
        }

        var started = await Kernel.StartAsync(Language, Id, cwd, state, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _kernel = started;
        }

        return started;
    }

    private BoxException Dead(string reason) => new(BoxErrorKind.Conflict, BoxErrorCodes.KernelDead,
        $"The kernel of context '{Id}' died ({reason}). POST /code/contexts/{Id}/restart starts a new one; its state is lost.");

    private string MarkDead(Kernel kernel)
    {
        lock (_gate)
        {
            return MarkDeadLocked(kernel);
        }
    }

    private string MarkDeadLocked(Kernel kernel)
    {
        var code = kernel.Exited.IsCompleted ? kernel.Exited.Result : -1;
        _deathReason ??= code > 128 ? $"the kernel was killed by signal {code - 128}" : $"the kernel exited with code {code}";
        return _deathReason;
    }
}
