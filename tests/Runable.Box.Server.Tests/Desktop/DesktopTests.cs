using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Desktop;
using Runable.Box.Protocol.Processes;

namespace Runable.Box.Server.Tests.Desktop;

/// <summary>The virtual desktop against a real Xvfb, openbox and xterm.</summary>
public sealed class DesktopTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Xterm_StartedAsAProcess_TypesACommand_AndTheScreenChanges()
    {
        Assert.True((await box.Client.HealthAsync(Ct)).Features.Desktop);
        var before = await Action(new() { Action = "screenshot" });
        Assert.Equal((1280, 800), (before.Width, before.Height));
        var display = (await box.Client.ExecAsync("echo \"$DISPLAY $XAUTHORITY\"", cancellationToken: Ct)).Stdout.Trim().Split(' ');
        Assert.StartsWith(":", display[0], StringComparison.Ordinal);
        Assert.True(File.Exists(display[1]));

        // No rc files: the host's ~/.bashrc may do anything (pyenv's rehash waits on a lock) before the prompt.
        var xterm = await StartAsync("xterm -geometry 80x20+40+40 -T typing -e bash --noprofile --norc");
        try
        {
            var window = await WaitForWindowAsync("typing");
            await Action(new() { Action = "left_click", Coordinate = [window.X + window.Width / 2, window.Y + window.Height / 2] });
            // On a busy machine the window manager may hand the focus over after the keys were sent.
            await WaitUntilAsync(async () => (await box.Client.XdotoolAsync(["getwindowfocus"], Ct)).Stdout.Trim() == window.Id.ToString(),
                "the click focused the xterm");
            var marker = Path.Combine(box.Workspace, "marker");
            await Action(new() { Action = "type", Text = $"echo dône ✓ > {marker}" });
            await Action(new() { Action = "key", Key = "Return" });
            await WaitUntilAsync(() => File.Exists(marker) && File.ReadAllText(marker) == "dône ✓\n",
                $"the typed command wrote the marker (it holds {(File.Exists(marker) ? $"'{File.ReadAllText(marker)}'" : "nothing")})");

            var after = await Action(new() { Action = "screenshot" });
            Assert.NotEqual(Pixels(before.Screenshot!), Pixels(after.Screenshot!));
        }
        finally
        {
            await StopAsync(xterm);
        }
    }

    [Fact]
    public async Task CharactersOutsideTheKeyboardMap_ReachAProgramThatReadsThemLate()
    {
        // A program stopped while the text is typed reads the key presses only afterwards: with a keycode bound for
        // the moment of a press and unbound after it (xdotool on its own), it would read no character at all.
        await Action(new() { Action = "cursor_position" }); // the desktop runs: the xterm gets its DISPLAY
        var xterm = await StartAsync("xterm -geometry 80x20+40+40 -T late -e bash --noprofile --norc");
        try
        {
            var window = await WaitForWindowAsync("late");
            await Action(new() { Action = "left_click", Coordinate = [window.X + window.Width / 2, window.Y + window.Height / 2] });
            await WaitUntilAsync(async () => (await box.Client.XdotoolAsync(["getwindowfocus"], Ct)).Stdout.Trim() == window.Id.ToString(),
                "the click focused the xterm");
            var marker = Path.Combine(box.Workspace, "late-marker");
            const string Text = "é ✓ 漢字 Ωμέγα ß ¿ → 😀";
            await box.Client.SignalAsync(xterm, "STOP", Ct);
            await Action(new() { Action = "type", Text = $"echo '{Text}' > {marker}" });
            await Action(new() { Action = "key", Key = "Return" });
            await box.Client.SignalAsync(xterm, "CONT", Ct);
            await WaitUntilAsync(() => File.Exists(marker) && File.ReadAllText(marker) == Text + "\n",
                $"the late program received every character (the marker holds {(File.Exists(marker) ? $"'{File.ReadAllText(marker)}'" : "nothing")})");
        }
        finally
        {
            await StopAsync(xterm);
        }
    }

    [Fact]
    public async Task Clicks_MoveTheFocusBetweenTwoXterms_AndThePixelsShowIt()
    {
        var left = await StartAsync("xterm -geometry 50x10+20+300 -T left");
        var right = await StartAsync("xterm -geometry 50x10+700+300 -T right");
        try
        {
            var leftWindow = await WaitForWindowAsync("left");
            var rightWindow = await WaitForWindowAsync("right");
            Assert.True(rightWindow.X > leftWindow.X + leftWindow.Width);

            var shots = new List<byte[]>();
            foreach (var window in new[] { leftWindow, rightWindow, leftWindow })
            {
                var clicked = await Action(new()
                {
                    Action = "left_click", Coordinate = [window.X + window.Width / 2, window.Y + window.Height / 2], ScreenshotAfter = true,
                });
                Assert.Equal([window.X + window.Width / 2, window.Y + window.Height / 2], clicked.Cursor);
                await WaitUntilAsync(async () => (await box.Client.XdotoolAsync(["getwindowfocus"], Ct)).Stdout.Trim() == window.Id.ToString(),
                    $"the click focused {window.Title}");
                shots.Add(Pixels((await Action(new() { Action = "screenshot" })).Screenshot!));
            }

            Assert.NotEqual(shots[0], shots[1]); // the focused xterm draws a filled cursor, the other a hollow one
            Assert.Equal(shots[0], shots[2]);
        }
        finally
        {
            await StopAsync(left);
            await StopAsync(right);
        }
    }

    [Fact]
    public async Task ScrollAndDrag_ChangeAnXtermWithScrollback()
    {
        var xterm = await StartAsync("xterm -geometry 60x12+300+450 -sl 1000 -T scrolling -e sh -c 'seq 1 300; sleep 60'");
        try
        {
            var window = await WaitForWindowAsync("scrolling");
            var center = new[] { window.X + window.Width / 2, window.Y + window.Height / 2 };
            await Task.Delay(300, Ct); // let seq print
            var before = Pixels((await Action(new() { Action = "screenshot" })).Screenshot!);

            var scrolled = await Action(new() { Action = "scroll", Coordinate = center, ScrollDirection = "up", ScrollAmount = 5, ScreenshotAfter = true });
            Assert.NotEqual(before, Pixels(scrolled.Screenshot!));

            var dragged = await Action(new()
            {
                Action = "left_click_drag", StartCoordinate = [window.X + 5, window.Y + 5], Coordinate = [window.X + window.Width - 10, window.Y + window.Height / 2],
                ScreenshotAfter = true,
            });
            Assert.NotEqual(Pixels(scrolled.Screenshot!), Pixels(dragged.Screenshot!)); // the selection is highlighted
            Assert.Equal([window.X + window.Width - 10, window.Y + window.Height / 2], dragged.Cursor);

            foreach (var action in new[] { "left_mouse_down", "left_mouse_up", "right_click", "middle_click", "double_click", "triple_click" })
            {
                Assert.True((await Action(new() { Action = action, Coordinate = [5, 5] })).Ok, action);
            }

            Assert.True((await Action(new() { Action = "hold_key", Key = "shift", DurationS = 0.1 })).Ok);
            var waited = Stopwatch.StartNew();
            Assert.True((await Action(new() { Action = "wait", DurationS = 0.3 })).Ok);
            Assert.True(waited.Elapsed >= TimeSpan.FromSeconds(0.29));
        }
        finally
        {
            await StopAsync(xterm);
        }
    }

    [Fact]
    public async Task InvalidCoordinates_AndUnknownActions_Are400WithWhatToSend()
    {
        var outside = await Assert.ThrowsAsync<BoxException>(() => Action(new() { Action = "left_click", Coordinate = [1280, 10] }));
        Assert.Equal(BoxErrorCodes.InvalidArgument, outside.Code);
        Assert.Equal(400, outside.Details["status"]);
        Assert.Contains("1280x800", outside.Message, StringComparison.Ordinal);

        var negative = await Assert.ThrowsAsync<BoxException>(() => Action(new() { Action = "left_click_drag", StartCoordinate = [-1, 0], Coordinate = [1, 1] }));
        Assert.Contains("start_coordinate", negative.Message, StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<BoxException>(() => Action(new() { Action = "teleport" }));
        Assert.Equal(BoxErrorCodes.InvalidArgument, unknown.Code);
        foreach (var action in DesktopServiceActions)
        {
            Assert.Contains(action, unknown.Message, StringComparison.Ordinal);
        }

        var noText = await Assert.ThrowsAsync<BoxException>(() => Action(new() { Action = "type" }));
        Assert.Contains("'text'", noText.Message, StringComparison.Ordinal);
        var badWidth = await Assert.ThrowsAsync<BoxException>(() => box.Client.DesktopScreenshotAsync(5000, Ct));
        Assert.Equal(400, badWidth.Details["status"]);
    }

    [Fact]
    public async Task ConcurrentActions_RunOneAtATime()
    {
        var points = Enumerable.Range(0, 10).Select(i => new[] { 100 + i * 37, 50 + i * 23 }).ToList();
        var results = await Task.WhenAll(points.Select(p => Action(new() { Action = "mouse_move", Coordinate = p })));
        for (var i = 0; i < points.Count; i++)
        {
            Assert.True(results[i].Ok);
            Assert.Equal(points[i], results[i].Cursor); // read back before any other action moved the pointer
        }

        var final = await Action(new() { Action = "cursor_position" });
        Assert.Contains(points, p => p.SequenceEqual(final.Cursor!));
    }

    [Fact]
    public async Task Screenshot_IsAPng_ScaledOnRequest_AndFast()
    {
        var full = await box.Client.DesktopScreenshotAsync(cancellationToken: Ct);
        Assert.Equal((1280, 800, 1.0), (full.ScreenWidth, full.ScreenHeight, full.Scale));
        Assert.Equal((1280, 800), (PngReader.Read(full.Png).Width, PngReader.Read(full.Png).Height));

        var small = await box.Client.DesktopScreenshotAsync(640, Ct);
        Assert.Equal((1280, 800, 2.0), (small.ScreenWidth, small.ScreenHeight, small.Scale));
        Assert.Equal((640, 400), (PngReader.Read(small.Png).Width, PngReader.Read(small.Png).Height));

        const int Count = 10;
        for (var i = 0; i < Count; i++)
        {
            await box.Client.DesktopScreenshotAsync(cancellationToken: Ct); // let the JIT optimise the hot loops (the box itself is compiled ahead of time)
        }

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Count; i++)
        {
            await box.Client.DesktopScreenshotAsync(cancellationToken: Ct);
        }

        var each = watch.Elapsed.TotalMilliseconds / Count;
        TestContext.Current.TestOutputHelper?.WriteLine($"1280x800 screenshot: {each:0.0} ms each over HTTP, {full.Png.Length} bytes");
        Assert.True(each < 500, $"{each} ms per screenshot");

        using var http = box.Http();
        using var response = await http.GetAsync("desktop/screenshot?width=320", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("4", response.Headers.GetValues("X-Scale").Single());
    }

    [Fact]
    public async Task Mcp_Computer_ReturnsTheScreenAsAnImage()
    {
        var options = new HttpClientTransportOptions
        {
            Endpoint = new Uri(box.BaseAddress, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["X-API-Key"] = BoxServerFixture.ApiKey },
        };
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(options), cancellationToken: Ct);
        Assert.Contains("computer", (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));

        var result = await client.CallToolAsync("computer", new Dictionary<string, object?> { ["action"] = "mouse_move", ["coordinate"] = new[] { 12, 34 } },
            cancellationToken: Ct);
        Assert.NotEqual(true, result.IsError);
        var json = JsonDocument.Parse(Assert.IsType<TextContentBlock>(result.Content[0]).Text).RootElement;
        Assert.Equal([12, 34], json.GetProperty("cursor").EnumerateArray().Select(e => e.GetInt32()));
        var image = Assert.IsType<ImageContentBlock>(result.Content[1]);
        Assert.Equal("image/png", image.MimeType);
        Assert.Equal(1280, PngReader.Read(image.DecodedData.ToArray()).Width);

        var failed = await client.CallToolAsync("computer", new Dictionary<string, object?> { ["action"] = "fly" }, cancellationToken: Ct);
        Assert.True(failed.IsError);
        Assert.Contains("invalid_argument", Assert.IsType<TextContentBlock>(failed.Content[0]).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoBoxes_GetTheirOwnDisplays_AndNeitherReachesTheOtherWithoutItsCookie()
    {
        await using var other = new BoxServerFixture();
        await other.InitializeAsync();
        await Task.WhenAll(Action(new() { Action = "cursor_position" }), other.Client.DesktopActionAsync(new() { Action = "cursor_position" }, Ct));

        var mine = (await box.Client.ExecAsync("echo $DISPLAY", cancellationToken: Ct)).Stdout.Trim();
        var theirs = (await other.Client.ExecAsync("echo $DISPLAY", cancellationToken: Ct)).Stdout.Trim();
        Assert.NotEqual(mine, theirs);

        var own = await other.Client.ExecAsync("xdpyinfo >/dev/null && echo reachable", cancellationToken: Ct);
        Assert.Equal("reachable\n", own.Stdout);
        foreach (var command in new[]
                 {
                     $"DISPLAY={theirs} XAUTHORITY=/dev/null xdpyinfo",
                     $"env -u XAUTHORITY HOME=/nonexistent DISPLAY={theirs} xdotool getmouselocation",
                 })
        {
            var refused = await box.Client.ExecAsync(command, cancellationToken: Ct);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("uthoriz", refused.Stderr + refused.Stdout, StringComparison.Ordinal);
        }

        var theirAuthority = (await other.Client.ExecAsync("echo $XAUTHORITY", cancellationToken: Ct)).Stdout.Trim();
        Assert.NotEqual((await box.Client.ExecAsync("echo $XAUTHORITY", cancellationToken: Ct)).Stdout.Trim(), theirAuthority);
    }

    private static IReadOnlyList<string> DesktopServiceActions => Runable.Box.Desktop.DesktopService.Actions;

    private Task<DesktopActionResult> Action(DesktopActionRequest request) => box.Client.DesktopActionAsync(request, Ct);

    private async Task<string> StartAsync(string command) =>
        (await box.Client.StartProcessAsync(new ProcessStartRequest { Command = "exec " + command }, Ct)).ProcessId;

    private async Task StopAsync(string processId)
    {
        try
        {
            await box.Client.SignalAsync(processId, "KILL", Ct);
        }
        catch (BoxException)
        {
            // Already exited.
        }
    }

    private async Task<DesktopWindow> WaitForWindowAsync(string title)
    {
        DesktopWindow? found = null;
        await WaitUntilAsync(async () => (found = (await box.Client.DesktopWindowsAsync(Ct)).FirstOrDefault(w => w.Title == title)) is not null,
            $"the window '{title}' appeared");
        // Give the window manager a moment to place and map it, and the program to draw.
        await Task.Delay(200, Ct);
        return (await box.Client.DesktopWindowsAsync(Ct)).First(w => w.Title == title);
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50, Ct);
        }
    }

    private static byte[] Pixels(string base64) => PngReader.Read(Convert.FromBase64String(base64)).Rgb;
}
