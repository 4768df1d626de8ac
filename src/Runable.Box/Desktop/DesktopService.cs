using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Desktop;

namespace Runable.Box.Desktop;

/// <summary>
/// The box's virtual desktop: a private X server (started on first use) driven with xdotool and captured with
/// xwd, for computer-use models. Actions on the desktop run one at a time, in arrival order. Once it runs,
/// commands the box starts get its <c>DISPLAY</c> and <c>XAUTHORITY</c>, so the programs they open appear on it.
/// </summary>
public sealed partial class DesktopService(BoxState state, ILogger<DesktopService> logger) : IAsyncDisposable
{
    /// <summary>What to install when the desktop cannot start.</summary>
    public const string InstallHint = "Install Debian's xvfb, xdotool, x11-apps (xwd) and openbox (scripts/setup.sh does).";

    private static readonly TimeSpan s_toolTimeout = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _actions = new(1, 1);
    private readonly SemaphoreSlim _start = new(1, 1);
    private readonly Lazy<bool> _available = new(() => DesktopProgram.OnPath("Xvfb") && DesktopProgram.OnPath("xdotool") && DesktopProgram.OnPath("xwd"));
    private VirtualDisplay? _display;
    private bool _disposed;

    /// <summary>The actions <see cref="RunAsync"/> takes.</summary>
    public static IReadOnlyList<string> Actions => DesktopActions.All;

    /// <summary>True when the desktop can start here (Xvfb, xdotool and xwd are installed); checked once.</summary>
    public bool Available => _available.Value;

    /// <summary>True while the desktop's X server runs.</summary>
    public bool Running => _display is { Exited.IsCompleted: false };

    /// <summary>The desktop's display (<c>:N</c>) while it runs.</summary>
    public string? Display => Running ? _display!.Environment["DISPLAY"] : null;

    /// <summary>The screen's width in pixels.</summary>
    public int Width => state.Options.DesktopWidth;

    /// <summary>The screen's height in pixels.</summary>
    public int Height => state.Options.DesktopHeight;

    /// <summary>Runs one computer-use action (after the ones before it) and returns the cursor, and a screenshot when asked.</summary>
    public async Task<DesktopActionResult> RunAsync(DesktopActionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var commands = DesktopActions.Plan(request, Width, Height);
        var display = await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        await _actions.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A type action's commands are its text's runs, one for one: those outside ASCII get their keycodes first.
            var runs = request.Action == "type" ? DesktopActions.Runs(request.Text!).ToList() : null;
            display.Keymap.BeginText();
            for (var i = 0; i < commands.Count; i++)
            {
                var command = commands[i];
                if (runs is not null && !runs[i].Ascii)
                {
                    await BindCharactersAsync(display, runs[i].Text, cancellationToken).ConfigureAwait(false);
                }

                var result = await XdotoolAsync(display, command, s_toolTimeout + TimeSpan.FromSeconds(request.DurationS ?? 0), cancellationToken).ConfigureAwait(false);
                if (result.ExitCode != 0)
                {
                    throw BoxException.InvalidArgument($"xdotool failed (exit code {result.ExitCode}) for {request.Action}: {result.Stderr.Trim()}");
                }
            }

            if (request.Action == "wait")
            {
                await Task.Delay(TimeSpan.FromSeconds(DesktopActions.Duration(request.DurationS, 1)), cancellationToken).ConfigureAwait(false);
            }

            var cursor = await CursorAsync(display, cancellationToken).ConfigureAwait(false);
            string? screenshot = null;
            if (request.Action == "screenshot" || request.ScreenshotAfter == true)
            {
                if (request.Action != "screenshot")
                {
                    // Let the programs redraw what the action changed.
                    await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                }

                screenshot = Convert.ToBase64String((await CaptureAsync(display, null, cancellationToken).ConfigureAwait(false)).Png);
            }

            return new DesktopActionResult { Ok = true, Screenshot = screenshot, Cursor = cursor, Width = display.Width, Height = display.Height };
        }
        finally
        {
            _actions.Release();
        }
    }

    /// <summary>Binds the characters of <paramref name="text"/> outside ASCII to keycodes; those it cannot, xdotool binds for a moment itself.</summary>
    private async Task BindCharactersAsync(VirtualDisplay display, string text, CancellationToken cancellationToken)
    {
        try
        {
            var unbound = await display.Keymap.BindAsync(text, cancellationToken).ConfigureAwait(false);
            if (unbound > 0)
            {
                LogKeymapFull(logger, unbound, display.Keymap.SpareKeycodes);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidOperationException or EndOfStreamException)
        {
            LogKeymapFailed(logger, e.Message);
        }
    }

    /// <summary>A PNG of the whole screen; scaled down (keeping the aspect ratio) to <paramref name="width"/> pixels wide when given.</summary>
    public async Task<DesktopScreenshot> ScreenshotAsync(int? width = null, CancellationToken cancellationToken = default)
    {
        if (width is { } w && (w < 16 || w > Width))
        {
            throw BoxException.InvalidArgument($"'width' must be between 16 and the screen's width, {Width} (the screen is {Width}x{Height}).");
        }

        var display = await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        await _actions.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await CaptureAsync(display, width, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _actions.Release();
        }
    }

    /// <summary>The visible top-level windows (the window manager's clients), with their content's position and size.</summary>
    public async Task<IReadOnlyList<DesktopWindow>> WindowsAsync(CancellationToken cancellationToken = default)
    {
        var display = await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        await _actions.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var visible = ParseIds((await XdotoolAsync(display, ["search", "--onlyvisible", "--maxdepth", "2", "--name", ""], s_toolTimeout, cancellationToken)
                .ConfigureAwait(false)).StdoutText).ToHashSet();
            var ids = await ClientWindowsAsync(display, cancellationToken).ConfigureAwait(false)
                ?? ParseIds((await XdotoolAsync(display, ["search", "--onlyvisible", "--maxdepth", "2", "--name", "."], s_toolTimeout, cancellationToken)
                    .ConfigureAwait(false)).StdoutText).ToList(); // without xprop: named windows up to a window manager's frames' children
            ids = ids.Where(visible.Contains).ToList();
            if (ids.Count == 0)
            {
                return [];
            }

            var arguments = ids.SelectMany(id => new[]
            {
                "getwindowname", id.ToString(CultureInfo.InvariantCulture), "getwindowgeometry", "--shell", id.ToString(CultureInfo.InvariantCulture),
            }).ToList();
            var details = await XdotoolAsync(display, arguments, s_toolTimeout, cancellationToken).ConfigureAwait(false);
            return ParseWindows(details.StdoutText).Where(w => w.Width > 1 && w.Height > 1).ToList();
        }
        finally
        {
            _actions.Release();
        }
    }

    /// <summary>Runs xdotool with raw arguments against the desktop (for clients of the original <c>/xdot/exec</c>).</summary>
    public async Task<XdotExecResult> XdotoolAsync(XdotExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.XdotoolArgs is not { Count: > 0 } arguments)
        {
            throw BoxException.InvalidArgument("'xdotool_args' is required: the arguments of xdotool, e.g. [\"getmouselocation\"].");
        }

        if (arguments.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
        {
            throw BoxException.InvalidArgument("'xdotool_args' must be strings without NUL bytes.");
        }

        var display = await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        await _actions.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await XdotoolAsync(display, arguments, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            return new XdotExecResult { Stdout = result.StdoutText, Stderr = result.Stderr, ExitCode = result.ExitCode };
        }
        finally
        {
            _actions.Release();
        }
    }

    /// <summary>Starts the desktop now (it starts on first use otherwise) and returns its display, <c>:N</c>.</summary>
    public async Task<string> StartAsync(CancellationToken cancellationToken = default) =>
        (await EnsureStartedAsync(cancellationToken).ConfigureAwait(false)).Environment["DISPLAY"];

    /// <summary>Starts the desktop if needed and returns its <c>DISPLAY</c> and <c>XAUTHORITY</c> (a new dictionary each time the X server restarts).</summary>
    internal async Task<IReadOnlyDictionary<string, string>> EnvironmentAsync(CancellationToken cancellationToken) =>
        (await EnsureStartedAsync(cancellationToken).ConfigureAwait(false)).Environment;

    public async ValueTask DisposeAsync()
    {
        await _start.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            state.DesktopEnvironment = null;
            if (_display is { } display)
            {
                _display = null;
                await display.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _start.Release();
        }
    }

    private async Task<VirtualDisplay> EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (_display is { Exited.IsCompleted: false } running)
        {
            return running;
        }

        await _start.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_display is { Exited.IsCompleted: false } started)
            {
                return started;
            }

            if (_display is { } dead)
            {
                LogRestarting(logger, dead.Number, dead.Exited.Result);
                state.DesktopEnvironment = null;
                await dead.DisposeAsync().ConfigureAwait(false);
            }

            if (!Available)
            {
                throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.DesktopUnavailable, $"The desktop is not available on this box. {InstallHint}");
            }

            var display = await VirtualDisplay.StartAsync(state, logger, cancellationToken).ConfigureAwait(false);
            _display = display;
            state.DesktopEnvironment = display.Environment;
            return display;
        }
        finally
        {
            _start.Release();
        }
    }

    private async Task<DesktopScreenshot> CaptureAsync(VirtualDisplay display, int? width, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var (rgb, screenWidth, screenHeight) = await GrabAsync(display, cancellationToken).ConfigureAwait(false);
        var captured = watch.Elapsed;
        var (imageWidth, imageHeight) = (screenWidth, screenHeight);
        if (width is { } w && w < screenWidth)
        {
            imageWidth = w;
            imageHeight = Math.Max(1, (int)Math.Round((double)screenHeight * w / screenWidth));
            rgb = PngEncoder.ScaleRgb(rgb, screenWidth, screenHeight, imageWidth, imageHeight);
        }

        var png = PngEncoder.EncodeRgb(rgb, imageWidth, imageHeight);
        LogCaptured(logger, imageWidth, imageHeight, png.Length, captured.TotalMilliseconds, watch.Elapsed.TotalMilliseconds);
        return new DesktopScreenshot(png, imageWidth, imageHeight, screenWidth, screenHeight);
    }

    /// <summary>The screen's pixels: straight from the X server, or through xwd when that cannot be done.</summary>
    private async Task<(byte[] Rgb, int Width, int Height)> GrabAsync(VirtualDisplay display, CancellationToken cancellationToken)
    {
        try
        {
            return await X11Capture.CaptureAsync(display.Number, display.Cookie, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidOperationException or NotSupportedException or EndOfStreamException)
        {
            LogDirectCaptureFailed(logger, e.Message);
        }

        var dump = await DesktopProgram.RunAsync(state, display.Environment, "xwd", ["-root", "-silent"], s_toolTimeout, cancellationToken,
            expectedBytes: display.Width * display.Height * 4 + 8192).ConfigureAwait(false);
        if (dump.ExitCode != 0)
        {
            throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.DesktopUnavailable,
                $"xwd could not capture the screen (exit code {dump.ExitCode}): {dump.Stderr.Trim()}");
        }

        return XwdImage.ToRgb(dump.Stdout.Span);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binding characters to keycodes failed ({Reason}); xdotool binds them itself, and a slow program may miss some")]
    private static partial void LogKeymapFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} characters of a text found no keycode (the display has {Spare} spare ones); xdotool binds them itself")]
    private static partial void LogKeymapFull(ILogger logger, int count, int spare);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the screen from the X server failed ({Reason}); using xwd")]
    private static partial void LogDirectCaptureFailed(ILogger logger, string reason);

    private async Task<IReadOnlyList<int>?> CursorAsync(VirtualDisplay display, CancellationToken cancellationToken)
    {
        var location = await XdotoolAsync(display, ["getmouselocation", "--shell"], s_toolTimeout, cancellationToken).ConfigureAwait(false);
        var values = Shell(location.StdoutText);
        return values.TryGetValue("X", out var x) && values.TryGetValue("Y", out var y) ? [(int)x, (int)y] : null;
    }

    /// <summary>The window manager's client list (<c>_NET_CLIENT_LIST</c>, through xprop), or null without xprop or a window manager.</summary>
    private async Task<List<long>?> ClientWindowsAsync(VirtualDisplay display, CancellationToken cancellationToken)
    {
        if (!DesktopProgram.OnPath("xprop"))
        {
            return null;
        }

        var list = await DesktopProgram.RunAsync(state, display.Environment, "xprop", ["-root", "-notype", "_NET_CLIENT_LIST"], s_toolTimeout, cancellationToken)
            .ConfigureAwait(false);
        var text = list.StdoutText;
        var hash = text.IndexOf('#', StringComparison.Ordinal);
        if (list.ExitCode != 0 || hash < 0)
        {
            return null;
        }

        return text[(hash + 1)..].Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(ParseId).OfType<long>().ToList();
    }

    private Task<DesktopProgramResult> XdotoolAsync(VirtualDisplay display, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        DesktopProgram.RunAsync(state, display.Environment, "xdotool", arguments, timeout, cancellationToken);

    /// <summary>Reads the output of chained <c>getwindowname W getwindowgeometry --shell W</c>: a name line, then WINDOW=, X=, Y=, WIDTH=, HEIGHT=, SCREEN= lines.</summary>
    private static List<DesktopWindow> ParseWindows(string text)
    {
        var windows = new List<DesktopWindow>();
        var lines = text.Split('\n');
        var name = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("WINDOW=", StringComparison.Ordinal))
            {
                name.Add(lines[i]);
                continue;
            }

            var block = Shell(string.Join('\n', lines.Skip(i).Take(6)));
            windows.Add(new DesktopWindow
            {
                Id = block.GetValueOrDefault("WINDOW"),
                Title = string.Join('\n', name),
                X = (int)block.GetValueOrDefault("X"),
                Y = (int)block.GetValueOrDefault("Y"),
                Width = (int)block.GetValueOrDefault("WIDTH"),
                Height = (int)block.GetValueOrDefault("HEIGHT"),
            });
            name.Clear();
            i += 5;
        }

        return windows;
    }

    /// <summary>Reads <c>NAME=number</c> lines (xdotool's <c>--shell</c> output).</summary>
    private static Dictionary<string, long> Shell(string text)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && long.TryParse(line.AsSpan(equals + 1).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                values[line[..equals]] = value;
            }
        }

        return values;
    }

    private static IEnumerable<long> ParseIds(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ParseId).OfType<long>();

    private static long? ParseId(string text)
    {
        text = text.Trim();
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) ? hex : null
            : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The desktop's X server on :{Display} exited (code {ExitCode}); starting a new one")]
    private static partial void LogRestarting(ILogger logger, int display, int exitCode);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Screenshot {Width}x{Height}: {Bytes} bytes of PNG, captured in {CaptureMs:0.0} ms, {TotalMs:0.0} ms in all")]
    private static partial void LogCaptured(ILogger logger, int width, int height, int bytes, double captureMs, double totalMs);
}
