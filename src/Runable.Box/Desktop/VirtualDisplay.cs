using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Runable.Box.Native;
using Runable.Box.Processes;
using Runable.Box.Protocol;

namespace Runable.Box.Desktop;

/// <summary>
/// The box's own X server: a private Xvfb that only holders of its MIT-MAGIC-COOKIE (kept in the box's state)
/// can connect to, no TCP listener, and a light window manager (openbox, when installed). Both run in their own
/// process groups in the workload's cgroups and are stopped with the box.
/// </summary>
internal sealed partial class VirtualDisplay : IAsyncDisposable
{
    private const int Attempts = 16;
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(15);
    private readonly ChildProcess _server;
    private readonly ChildProcess? _windowManager;
    private readonly ILogger _logger;

    private VirtualDisplay(int number, string authority, byte[] cookie, int width, int height, ChildProcess server, ChildProcess? windowManager, ILogger logger)
    {
        Number = number;
        Cookie = cookie;
        Keymap = new TypingKeymap(number, cookie);
        Width = width;
        Height = height;
        _server = server;
        _windowManager = windowManager;
        _logger = logger;
        Environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DISPLAY"] = ":" + number.ToString(CultureInfo.InvariantCulture),
            ["XAUTHORITY"] = authority,
        };
    }

    /// <summary>The display number (<c>:N</c>).</summary>
    public int Number { get; }

    /// <summary>The MIT-MAGIC-COOKIE-1 clients of this display authenticate with.</summary>
    internal byte[] Cookie { get; }

    /// <summary>The characters outside ASCII typed on this display, kept bound to spare keycodes.</summary>
    internal TypingKeymap Keymap { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary><c>DISPLAY</c> and <c>XAUTHORITY</c> for clients of this display.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Completes when the X server exits.</summary>
    public Task<int> Exited => _server.Exited;

    /// <summary>Starts Xvfb on a free display, then the window manager, and returns once both are ready.</summary>
    public static async Task<VirtualDisplay> StartAsync(BoxState state, ILogger logger, CancellationToken cancellationToken)
    {
        var xvfb = DesktopProgram.Find("Xvfb") ?? throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.DesktopUnavailable,
            $"Xvfb is not installed. {DesktopService.InstallHint}");
        var options = state.Options;
        var directory = state.StatePath("desktop");
        var authority = Path.Combine(directory, "Xauthority");
        var cookie = RandomNumberGenerator.GetBytes(16);
        WriteAuthority(authority, cookie);

        var tried = new List<string>();
        var candidate = 0;
        for (var attempt = 0; attempt < Attempts; attempt++, candidate++)
        {
            candidate = NextFreeDisplay(candidate);
            var ready = new DisplayNumberSink();
            var log = new TailSink();
            var display = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["DISPLAY"] = ":" + candidate.ToString(CultureInfo.InvariantCulture),
                ["XAUTHORITY"] = authority,
            };
            // -displayfd 1: Xvfb prints the display number on stdout once it accepts connections.
            var server = DesktopProgram.Start(state, display, xvfb,
            [
                ":" + candidate.ToString(CultureInfo.InvariantCulture), "-displayfd", "1",
                "-screen", "0", string.Create(CultureInfo.InvariantCulture, $"{options.DesktopWidth}x{options.DesktopHeight}x{options.DesktopDepth}"),
                "-nolisten", "tcp", "-auth", authority, "-noreset",
            ], ready, log);
            var first = await Task.WhenAny(ready.Number, server.Exited, Task.Delay(s_startTimeout, cancellationToken)).ConfigureAwait(false);
            if (first == ready.Number)
            {
                var windowManager = await StartWindowManagerAsync(state, display, directory, logger, cancellationToken).ConfigureAwait(false);
                var started = new VirtualDisplay(candidate, authority, cookie, options.DesktopWidth, options.DesktopHeight, server, windowManager, logger);
                LogStarted(logger, candidate, options.DesktopWidth, options.DesktopHeight, windowManager is not null);
                return started;
            }

            server.KillGroup();
            server.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            tried.Add($":{candidate}: {log.ToString().Trim()}");
            if (first != server.Exited)
            {
                break;
            }
        }

        throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.DesktopUnavailable,
            $"The desktop's X server (Xvfb) did not start: {string.Join(" | ", tried)}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in new[] { _windowManager, _server })
        {
            if (process is null)
            {
                continue;
            }

            // TERM first so Xvfb removes its socket, then KILL whatever is left of the group.
            process.SignalGroup(ProcessInterop.SIGTERM);
            await Task.WhenAny(process.Exited, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
            process.Dispose();
        }

        LogStopped(_logger, Number);
    }

    /// <summary>
    /// The first display at or after <paramref name="from"/> with neither a socket nor a lock file in /tmp. In a
    /// sandbox /tmp is private and :0 is free; outside one, Xvfb refuses a display another server holds and the
    /// next is tried.
    /// </summary>
    private static int NextFreeDisplay(int from)
    {
        for (var n = from; n < from + 1000; n++)
        {
            if (!File.Exists($"/tmp/.X11-unix/X{n}") && !File.Exists($"/tmp/.X{n}-lock"))
            {
                return n;
            }
        }

        return from;
    }

    private static async Task<ChildProcess?> StartWindowManagerAsync(BoxState state, Dictionary<string, string> display, string directory,
        ILogger logger, CancellationToken cancellationToken)
    {
        if (DesktopProgram.Find("openbox") is not { } openbox)
        {
            LogNoWindowManager(logger);
            return null;
        }

        // openbox runs --startup once it manages the screen; its settings and caches stay in the box's state.
        var ready = Path.Combine(directory, "openbox.ready");
        File.Delete(ready);
        var environment = new Dictionary<string, string>(display, StringComparer.Ordinal)
        {
            ["XDG_CONFIG_HOME"] = state.StatePath("desktop", "config"),
            ["XDG_CACHE_HOME"] = state.StatePath("desktop", "cache"),
            ["XDG_DATA_HOME"] = state.StatePath("desktop", "data"),
        };
        var log = new TailSink();
        var process = DesktopProgram.Start(state, environment, openbox, ["--startup", $"touch '{ready}'"], log, log);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!File.Exists(ready) && !process.Exited.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        if (process.Exited.IsCompleted)
        {
            LogWindowManagerFailed(logger, log.ToString().Trim());
            process.Dispose();
            return null;
        }

        return process;
    }

    /// <summary>
    /// Writes an Xauthority file with one MIT-MAGIC-COOKIE-1 entry for any address and display (family
    /// FamilyWild), readable by the box's user only.
    /// </summary>
    internal static void WriteAuthority(string path, ReadOnlySpan<byte> cookie)
    {
        using var buffer = new MemoryStream();
        void Counted(ReadOnlySpan<byte> data)
        {
            Span<byte> length = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)data.Length);
            buffer.Write(length);
            buffer.Write(data);
        }

        buffer.Write([0xFF, 0xFF]); // FamilyWild
        Counted([]); // address
        Counted([]); // display number: any
        Counted("MIT-MAGIC-COOKIE-1"u8);
        Counted(cookie);
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            file.Write(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }

        File.Move(temporary, path, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Desktop started on display :{Display} ({Width}x{Height}, window manager: {WindowManager})")]
    private static partial void LogStarted(ILogger logger, int display, int width, int height, bool windowManager);

    [LoggerMessage(Level = LogLevel.Information, Message = "Desktop on display :{Display} stopped")]
    private static partial void LogStopped(ILogger logger, int display);

    [LoggerMessage(Level = LogLevel.Warning, Message = "openbox is not installed: the desktop runs without a window manager")]
    private static partial void LogNoWindowManager(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "openbox exited at start: {Log}")]
    private static partial void LogWindowManagerFailed(ILogger logger, string log);

    /// <summary>Completes with the number Xvfb writes to <c>-displayfd</c> once it is ready.</summary>
    private sealed class DisplayNumberSink : IOutputSink
    {
        private readonly StringBuilder _text = new();
        private readonly TaskCompletionSource<int> _number = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<int> Number => _number.Task;

        public void Append(ReadOnlySpan<byte> data)
        {
            lock (_text)
            {
                if (_text.Length < 64)
                {
                    _text.Append(Encoding.ASCII.GetString(data));
                }

                var text = _text.ToString();
                if (text.Contains('\n', StringComparison.Ordinal) && int.TryParse(text.AsSpan(0, text.IndexOf('\n', StringComparison.Ordinal)).Trim(),
                        NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    _number.TrySetResult(number);
                }
            }
        }

        public void Complete()
        {
        }
    }
}
