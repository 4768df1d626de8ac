using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Runable.Box.Native;
using Runable.Box.Processes;
using Runable.Box.Protocol;

namespace Runable.Box.Desktop;

/// <summary>
/// The desktop's VNC server for the live view: x11vnc on the box's display, started on first use, listening only
/// on a unix socket in the box's private state directory (no TCP port at all), so the box's authenticated
/// <c>/desktop/vnc</c> WebSocket is the only way in. It runs in its own process group in the workload's cgroups,
/// is restarted when it (or the X server under it) died, and is stopped with the box.
/// </summary>
public sealed partial class VncServer(BoxState state, DesktopService desktop, ILogger<VncServer> logger) : IAsyncDisposable
{
    /// <summary>What to install when the live view cannot start.</summary>
    public const string InstallHint = "Install Debian's x11vnc and novnc (scripts/setup.sh does).";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _start = new(1, 1);
    private ChildProcess? _process;
    private IReadOnlyDictionary<string, string>? _display;
    private bool _disposed;

    /// <summary>True when x11vnc is installed (and the desktop can start).</summary>
    public bool Available => desktop.Available && DesktopProgram.OnPath("x11vnc");

    /// <summary>The unix socket x11vnc listens on (in the box's state directory).</summary>
    public string SocketPath => Path.Combine(state.StatePath("desktop"), "vnc.sock");

    /// <summary>Starts the desktop and the VNC server if needed (again if either died) and returns the VNC server's unix socket.</summary>
    public async Task<string> EnsureStartedAsync(CancellationToken cancellationToken = default)
    {
        var display = await desktop.EnvironmentAsync(cancellationToken).ConfigureAwait(false);
        await _start.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_process is { Exited.IsCompleted: false } && ReferenceEquals(_display, display))
            {
                return SocketPath;
            }

            if (_process is { } old)
            {
                LogRestarting(logger, old.Exited.IsCompleted ? old.Exited.Result : null);
                Stop(old);
                _process = null;
            }

            if (DesktopProgram.Find("x11vnc") is not { } x11vnc)
            {
                throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.DesktopUnavailable, $"x11vnc is not installed. {InstallHint}");
            }

            var socket = SocketPath;
            File.Delete(socket);
            var log = new TailSink();
            var process = DesktopProgram.Start(state, display, x11vnc,
            [
                "-display", display["DISPLAY"], "-auth", display["XAUTHORITY"],
                "-unixsock", socket, "-rfbport", "0", "-rfbportv6", "0", // the unix socket only: no TCP listener (libvncserver's IPv6 one included)
                "-shared", "-forever", "-nopw", "-noxdamage", "-quiet", "-nossl", "-noipv6",
            ], log, log);
            try
            {
                await WaitReadyAsync(process, socket, log, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Stop(process);
                throw;
            }

            _process = process;
            _display = display;
            LogStarted(logger, display["DISPLAY"], socket);
            return socket;
        }
        finally
        {
            _start.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _start.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_process is { } process)
            {
                _process = null;
                process.SignalGroup(ProcessInterop.SIGTERM);
                await Task.WhenAny(process.Exited, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
                process.Dispose(); // kills what is left of the group
            }
        }
        finally
        {
            _start.Release();
        }
    }

    /// <summary>Returns once the socket accepts a connection (which x11vnc then drops as an aborted client).</summary>
    private static async Task WaitReadyAsync(ChildProcess process, string socket, TailSink log, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + s_startTimeout;
        while (true)
        {
            if (process.Exited.IsCompleted)
            {
                throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.DesktopUnavailable,
                    $"The VNC server (x11vnc) exited at start (exit code {process.Exited.Result}): {log.ToString().Trim()}");
            }

            if (File.Exists(socket))
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await probe.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (SocketException)
                {
                    // not listening yet
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.DesktopUnavailable,
                    $"The VNC server (x11vnc) did not listen within {s_startTimeout.TotalSeconds:0} s: {log.ToString().Trim()}");
            }

            await Task.Delay(25, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void Stop(ChildProcess process)
    {
        process.KillGroup();
        process.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "VNC server started on display {Display}, listening on {Socket}")]
    private static partial void LogStarted(ILogger logger, string display, string socket);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The VNC server or its display is gone (exit code {ExitCode}); restarting it")]
    private static partial void LogRestarting(ILogger logger, int? exitCode);
}
