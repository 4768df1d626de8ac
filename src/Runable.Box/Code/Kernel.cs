using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Runable.Box.Native;
using Runable.Box.Processes;

namespace Runable.Box.Code;

/// <summary>
/// One running Jupyter kernel: its process (in its own process group, in the sandbox's workload cgroup), its
/// connection file where the Jupyter view finds it, and the ZeroMQ connection the box speaks over.
/// </summary>
internal sealed class Kernel : IAsyncDisposable
{
    private static readonly TimeSpan s_interruptWait = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, Execution> _pending = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _session = Guid.NewGuid().ToString("N");
    private readonly ChildProcess _process;
    private readonly KernelConnection _connection;
    private readonly TailSink _log;
    private string? _infoRequest;
    private bool _infoReplied;

    private Kernel(string id, string connectionPath, ChildProcess process, KernelConnection connection, TailSink log)
    {
        _log = log;
        Id = id;
        ConnectionPath = connectionPath;
        _process = process;
        _connection = connection;
    }

    /// <summary>The kernel's id: its connection file's name, and its id in the Jupyter view.</summary>
    public string Id { get; }

    public string ConnectionPath { get; }

    /// <summary>Completes with the exit code when the kernel's process ends.</summary>
    public Task<int> Exited => _process.Exited;

    /// <summary>The last lines the kernel printed outside of executions (start-up errors, crashes).</summary>
    public string RecentLog => _log.ToString();

    /// <summary>
    /// Starts a kernel and returns once it answers on every channel. A kernel that finds one of its ports taken
    /// (by a program that bound it between our choice and the kernel's start) is started again on new ports.
    /// </summary>
    public static async Task<Kernel> StartAsync(KernelLanguage language, string contextId, string cwd, BoxState state, CancellationToken cancellationToken)
    {
        try
        {
            return await StartOnceAsync(language, contextId, cwd, state, cancellationToken).ConfigureAwait(false);
        }
        catch (PortTakenException)
        {
            return await StartOnceAsync(language, contextId, cwd, state, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<Kernel> StartOnceAsync(KernelLanguage language, string contextId, string cwd, BoxState state, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString();
        var path = Path.Combine(state.StatePath("kernels"), id + ".json");
        var connectionFile = ConnectionFile.Create();
        connectionFile.Write(path, language.KernelName, contextId);
        var (fileName, arguments) = language.Command(state.Options, path);
        ChildProcess process;
        var log = new TailSink();
        try
        {
            process = ChildProcess.Start(new ChildProcessOptions
            {
                FileName = fileName,
                Arguments = arguments,
                WorkingDirectory = cwd,
                // Figures inline; the kernels' own settings and history in the box's state, not in the workspace
                // (where a sandbox's HOME is) and not in the diff a job hands back.
                Environment = state.CommandEnvironment(new Dictionary<string, string>
                {
                    ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline",
                    ["MPLCONFIGDIR"] = state.StatePath("kernel-home", "matplotlib"),
                    ["IPYTHONDIR"] = state.StatePath("kernel-home", "ipython"),
                    ["JUPYTER_CONFIG_DIR"] = state.StatePath("kernel-home", "jupyter"),
                    ["JUPYTER_DATA_DIR"] = state.StatePath("kernel-home", "jupyter-data"),
                    ["JUPYTER_RUNTIME_DIR"] = state.StatePath("kernel-home", "jupyter-runtime"),
                    ["XDG_CACHE_HOME"] = state.StatePath("kernel-home", "cache"),
                    ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1",
                }),
                Cgroups = state.WorkCgroupProcs,
                Stdout = log,
                Stderr = log,
            });
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            File.Delete(path);
            throw new Protocol.BoxException(Protocol.BoxErrorKind.Unavailable, Protocol.BoxErrorCodes.KernelUnavailable,
                $"Could not start the {language.Name} kernel ({fileName}): {e.Message}. {Install(language)}", e);
        }

        connectionFile.Write(path, language.KernelName, contextId, process.Pid);
        Kernel? kernel = null;
        var connection = new KernelConnection(connectionFile, (channel, message) => kernel?.OnMessage(channel, message));
        kernel = new Kernel(id, path, process, connection, log);
        try
        {
            await kernel.WaitUntilReadyAsync(language, TimeSpan.FromSeconds(state.Options.KernelStartTimeoutSeconds), cancellationToken).ConfigureAwait(false);

            // ipykernel rewrites the file with the standard fields once it has bound; put the owner back.
            connectionFile.Write(path, language.KernelName, contextId, process.Pid);
            return kernel;
        }
        catch
        {
            await kernel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends code and collects what it produces until the kernel is idle again, or <paramref name="timeout"/> passes.</summary>
    public async Task<(Execution Execution, bool TimedOut, bool Died)> ExecuteAsync(string code, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var request = JupyterMessage.Request(_session, "execute_request", new JsonObject
        {
            ["code"] = code,
            ["silent"] = false,
            ["store_history"] = true,
            ["user_expressions"] = new JsonObject(),
            ["allow_stdin"] = false,
            ["stop_on_error"] = true,
        });
        var execution = new Execution(request.MsgId);
        _pending[request.MsgId] = execution;
        try
        {
            _connection.Send(KernelChannel.Shell, request);
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var deadline = Task.Delay(timeout, timer.Token);
            var first = await Task.WhenAny(execution.Completed, deadline, Exited).ConfigureAwait(false);
            timer.Cancel();
            cancellationToken.ThrowIfCancellationRequested();
            if (first == Exited)
            {
                return (execution, false, true);
            }

            if (first == deadline)
            {
                // Interrupt, then give the kernel a moment to report the interruption and return to idle.
                await InterruptAsync(expectRunning: true).ConfigureAwait(false);
                var settled = await Task.WhenAny(execution.Completed, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None), Exited).ConfigureAwait(false);
                return (execution, true, settled == Exited);
            }

            return (execution, false, false);
        }
        finally
        {
            _pending.TryRemove(request.MsgId, out _);
        }
    }

    /// <summary>
    /// Interrupts what the kernel runs with SIGINT to its process group, as Jupyter does for kernels whose
    /// interrupt mode is <c>signal</c> (ipykernel, tslab); the programs the code started get it too, as with Ctrl-C.
    /// A signal that comes before the kernel runs the code is ignored or breaks the kernel's own handling of the
    /// request (on a busy machine the request may still be on its way), so the signal waits, for a few seconds at
    /// most, until an execution in flight has started; with <paramref name="expectRunning"/>, also until one is in flight.
    /// </summary>
    public async Task InterruptAsync(bool expectRunning)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < s_interruptWait && !Exited.IsCompleted)
        {
            var pending = _pending.Values.ToList();
            if (pending.Any(e => e.Started.IsCompleted) || (pending.Count == 0 && !expectRunning))
            {
                break;
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        _process.SignalGroup(ProcessInterop.SIGINT);
    }

    public async ValueTask DisposeAsync()
    {
        _process.KillGroup();
        _connection.Dispose();
        await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        _process.Dispose();
        foreach (var execution in _pending.Values)
        {
            execution.Abandon();
        }

        File.Delete(ConnectionPath);
    }

    private async Task WaitUntilReadyAsync(KernelLanguage language, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // A kernel is ready when it answers kernel_info on shell and its iopub is seen publishing for our
        // session (a subscription made before the kernel bound misses what came first, so ask again).
        var deadline = DateTime.UtcNow + timeout;
        while (!_ready.Task.IsCompleted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Exited.IsCompleted)
            {
                throw new Protocol.BoxException(Protocol.BoxErrorKind.Unavailable, Protocol.BoxErrorCodes.KernelUnavailable,
                    $"The {language.Name} kernel exited during start (code {Exited.Result}): {RecentLog.Trim()} {Install(language)}");
            }

            if (RecentLog.Contains("Address already in use", StringComparison.Ordinal))
            {
                throw new PortTakenException();
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Protocol.BoxException(Protocol.BoxErrorKind.Unavailable, Protocol.BoxErrorCodes.KernelUnavailable,
                    $"The {language.Name} kernel did not answer within {timeout.TotalSeconds:0} s: {RecentLog.Trim()}");
            }

            var request = JupyterMessage.Request(_session, "kernel_info_request", []);
            Volatile.Write(ref _infoRequest, request.MsgId);
            _connection.Send(KernelChannel.Shell, request);
            await Task.WhenAny(_ready.Task, Exited, Task.Delay(250, cancellationToken)).ConfigureAwait(false);
        }
    }

    private void OnMessage(KernelChannel channel, JupyterMessage message)
    {
        if (message.ParentId is not { } parent)
        {
            return;
        }

        if (_pending.TryGetValue(parent, out var execution))
        {
            if (channel == KernelChannel.Shell && message.MsgType == "execute_reply")
            {
                execution.OnReply(message);
            }
            else if (channel == KernelChannel.IoPub)
            {
                execution.OnIoPub(message);
            }

            return;
        }

        if (!_ready.Task.IsCompleted && (string?)message.ParentHeader["session"] == _session)
        {
            if (channel == KernelChannel.Shell && message.MsgType == "kernel_info_reply")
            {
                _infoReplied = true;
            }

            if (channel == KernelChannel.IoPub && _infoReplied || channel == KernelChannel.IoPub && parent == Volatile.Read(ref _infoRequest))
            {
                _ready.TrySetResult();
            }
        }
    }

    private static string Install(KernelLanguage language) => language == KernelLanguage.Python
        ? "Install Debian's python3-ipykernel (scripts/setup.sh does), or set Box:Python to a Python that has ipykernel."
        : "Install tslab (npm install -g tslab @types/node; scripts/setup.sh does), or set Box:Tslab to its path.";

    private sealed class PortTakenException : Exception;
}
