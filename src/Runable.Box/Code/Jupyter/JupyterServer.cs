using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Runable.Box.Processes;
using Runable.Box.Protocol;

namespace Runable.Box.Code.Jupyter;

/// <summary>
/// The box's Jupyter server (the live notebook view), started on first use: Debian's notebook (or jupyter_server)
/// on a free loopback port with a random token, serving the workspace under <c>{<see cref="BoxOptions.PublicPath"/>}jupyter/</c>,
/// with its settings in the box's state. Its kernel manager (<c>runable_jupyter.py</c>, shipped next to the box)
/// adopts the kernels of <c>/code</c> from their connection files, so a person and the agent share them. A server
/// that died is started again on the next use; its whole process group is stopped with the box.
/// </summary>
public sealed partial class JupyterServer : IAsyncDisposable, IDisposable
{
    /// <summary>The Python module that launches the server and adopts the box's kernels.</summary>
    public const string ScriptName = "runable_jupyter.py";

    /// <summary>The error code of a Jupyter server that is not installed or does not start.</summary>
    public const string UnavailableCode = "jupyter_unavailable";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(20);
    private readonly BoxState _state;
    private readonly ILogger<JupyterServer> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HttpClient _probe = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(2),
    };

    private Running? _running;
    private bool _disposed;

    public JupyterServer(BoxState state, ILogger<JupyterServer> logger)
    {
        _state = state;
        _logger = logger;
        var prefix = state.Options.PublicPath.Trim().Trim('/');
        BaseUrl = (prefix.Length > 0 ? "/" + prefix : "") + "/jupyter/";
    }

    /// <summary>True when a Jupyter server can start here (Debian's notebook or jupyter-server is installed).</summary>
    public static bool Available => s_available.Value;

    private static readonly Lazy<bool> s_available = new(() => Processes.ProgramPath.Exists("jupyter-notebook") || Processes.ProgramPath.Exists("jupyter-server"));

    /// <summary>The path prefix the Jupyter server serves under, with a leading and a trailing slash.</summary>
    public string BaseUrl { get; }

    /// <summary>Where the launcher script is: next to the box's program (<c>jupyter/runable_jupyter.py</c>).</summary>
    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "jupyter", ScriptName);

    /// <summary>The running server, or null when none runs now.</summary>
    public JupyterInstance? Current => _running is { } running && !running.Process.Exited.IsCompleted ? running.Instance : null;

    /// <summary>Returns the running server, starting it (again) when none runs; waits until it answers.</summary>
    public async Task<JupyterInstance> EnsureStartedAsync(CancellationToken cancellationToken = default)
    {
        if (Current is { } current)
        {
            return current;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_running is { } previous)
            {
                if (!previous.Process.Exited.IsCompleted)
                {
                    return previous.Instance;
                }

                LogDied(_logger, previous.Instance.ProcessId, previous.Log.ToString().Trim());
                _running = null;
                previous.Process.Dispose();
            }

            _running = await StartAsync(cancellationToken).ConfigureAwait(false);
            return _running.Instance;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Running> StartAsync(CancellationToken cancellationToken)
    {
        var script = ScriptPath;
        if (!File.Exists(script))
        {
            throw Unavailable($"The Jupyter launcher {script} is missing from the box's installation.");
        }

        var started = Stopwatch.StartNew();
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var port = FreePort();
        var log = new TailSink();
        ChildProcess process;
        try
        {
            process = ChildProcess.Start(new ChildProcessOptions
            {
                FileName = _state.Options.Python,
                Arguments = [script, port.ToString(System.Globalization.CultureInfo.InvariantCulture), BaseUrl, _state.Workspace],
                WorkingDirectory = _state.Workspace,
                Environment = _state.CommandEnvironment(new Dictionary<string, string>
                {
                    // Nothing of the user's home: settings, runtime files and caches live in the box's state.
                    ["HOME"] = _state.StatePath("jupyter", "home"),
                    ["JUPYTER_CONFIG_DIR"] = _state.StatePath("jupyter", "config"),
                    ["JUPYTER_DATA_DIR"] = _state.StatePath("jupyter", "data"),
                    ["JUPYTER_RUNTIME_DIR"] = _state.StatePath("jupyter", "runtime"),
                    ["JUPYTER_TOKEN"] = token,
                    ["RUNABLE_KERNELS_DIR"] = _state.StatePath("kernels"),
                    // Kernels started from the notebook UI behave like the box's own.
                    ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline",
                    ["MPLCONFIGDIR"] = _state.StatePath("kernel-home", "matplotlib"),
                    ["IPYTHONDIR"] = _state.StatePath("kernel-home", "ipython"),
                    ["XDG_CACHE_HOME"] = _state.StatePath("kernel-home", "cache"),
                    ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1",
                    ["PYTHONUNBUFFERED"] = "1",
                }),
                Cgroups = _state.WorkCgroupProcs,
                Stdout = log,
                Stderr = log,
            });
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw Unavailable($"Could not start Jupyter with {_state.Options.Python}: {e.Message}. {Install}", e);
        }

        var running = new Running(new JupyterInstance(port, token, process.Pid), process, log);
        try
        {
            await WaitUntilAnsweringAsync(running, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await StopAsync(running).ConfigureAwait(false);
            throw;
        }

        LogStarted(_logger, process.Pid, port, BaseUrl, started.ElapsedMilliseconds);
        return running;
    }

    private async Task WaitUntilAnsweringAsync(Running running, CancellationToken cancellationToken)
    {
        var status = new Uri($"http://127.0.0.1:{running.Instance.Port}{BaseUrl}api/status");
        var deadline = DateTime.UtcNow + s_startTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (running.Process.Exited.IsCompleted)
            {
                throw Unavailable($"Jupyter exited during start (code {running.Process.Exited.Result}): {running.Log.ToString().Trim()} {Install}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw Unavailable($"Jupyter did not answer within {s_startTimeout.TotalSeconds:0} s: {running.Log.ToString().Trim()}");
            }

            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, status);
                request.Headers.Authorization = new AuthenticationHeaderValue("token", running.Instance.Token);
                using var response = await _probe.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The probe's own timeout.
            }

            await Task.WhenAny(running.Process.Exited, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops a server: SIGTERM to its group first, so that it shuts down the kernels its UI started (they lead
    /// sessions of their own; it never stops the box's), then SIGKILL to whatever of the group is left.
    /// </summary>
    private async Task StopAsync(Running running)
    {
        if (!running.Process.Exited.IsCompleted)
        {
            LogStopping(_logger, running.Instance.ProcessId);
            running.Process.SignalGroup(Native.ProcessInterop.SIGTERM);
            await Task.WhenAny(running.Process.Exited, Task.Delay(TimeSpan.FromSeconds(3))).ConfigureAwait(false);
        }

        running.Process.KillGroup();
        running.Process.Dispose();
    }

    private static BoxException Unavailable(string message, Exception? inner = null) =>
        new(BoxErrorKind.Unavailable, UnavailableCode, message.Trim(), inner);

    private const string Install =
        "The Jupyter view needs Debian's python3-notebook (or jupyter-server) and python3-ipykernel.";

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_running is { } running)
            {
                _running = null;
                await StopAsync(running).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }

        _probe.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    [LoggerMessage(Level = LogLevel.Information, Message = "Jupyter started (pid {Pid}, 127.0.0.1:{Port}{BaseUrl}) in {ElapsedMs} ms")]
    private static partial void LogStarted(ILogger logger, int pid, int port, string baseUrl, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Jupyter (pid {Pid}) had exited; starting it again. Its last output: {Log}")]
    private static partial void LogDied(ILogger logger, int pid, string log);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stopping Jupyter (pid {Pid})")]
    private static partial void LogStopping(ILogger logger, int pid);

    private sealed record Running(JupyterInstance Instance, ChildProcess Process, TailSink Log);
}

/// <summary>Where a started Jupyter server answers: its loopback port, its token and its process (group) id.</summary>
public sealed record JupyterInstance(int Port, string Token, int ProcessId);
