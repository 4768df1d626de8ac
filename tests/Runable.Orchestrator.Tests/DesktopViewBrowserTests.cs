using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Playwright;
using Runable.Box.Client;
using Runable.Box.Protocol.Desktop;
using Runable.Box.Protocol.Processes;

namespace Runable.Orchestrator.Tests;

/// <summary>
/// The desktop's live view in a real browser (Debian's chromium, driven by Playwright) through the orchestrator's
/// proxy: noVNC's page, opened with the caller's key in its address, draws the sandbox's screen and follows it.
/// </summary>
public sealed class DesktopViewBrowserTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private const string Chromium = "/usr/bin/chromium";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NoVnc_ThroughTheOrchestrator_ShowsTheDesktop_AndFollowsIt()
    {
        Assert.SkipUnless(File.Exists(Chromium), "Debian's chromium is not installed (scripts/setup.sh installs it).");
        var id = await CreateSandboxAsync();
        try
        {
            using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), orchestrator.AdminKey);
            await box.DesktopActionAsync(new DesktopActionRequest { Action = "cursor_position" }, Ct); // starts the desktop: the xterm gets its DISPLAY
            await box.StartProcessAsync(new ProcessStartRequest { Command = "exec xterm -geometry 80x20+40+40 -T live -e bash --noprofile --norc" }, Ct);
            var window = await WaitForWindowAsync(box, "live");

            Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = Chromium,
                Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
            var page = await context.NewPageAsync();
            var url = new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/desktop/view?api_key={orchestrator.AdminKey}");
            var response = await page.GotoAsync(url.ToString());
            Assert.Equal(200, response!.Status);

            // noVNC draws into its canvas once the RFB session is up.
            await page.WaitForSelectorAsync("body[data-state=connected]", new() { Timeout = 15_000 });
            Assert.DoesNotContain("api_key", page.Url, StringComparison.Ordinal);
            var canvas = page.Locator("#screen canvas");
            // 'connect' comes with the handshake; the first update is drawn a moment later.
            var drawn = Stopwatch.StartNew();
            while (!await canvas.EvaluateAsync<bool>("""
                c => {
                  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  for (let i = 4; i < d.length; i += 4) {
                    if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
                  }
                  return false;
                }
                """))
            {
                Assert.True(drawn.Elapsed < TimeSpan.FromSeconds(10), "the canvas stayed blank: all its pixels are equal");
                await Task.Delay(100, Ct);
            }

            var before = await StableShotAsync(canvas);

            await box.DesktopActionAsync(new DesktopActionRequest { Action = "left_click", Coordinate = [window.X + window.Width / 2, window.Y + window.Height / 2] }, Ct);
            await box.DesktopActionAsync(new DesktopActionRequest { Action = "type", Text = "echo the live view follows the screen" }, Ct);
            var watch = Stopwatch.StartNew();
            while ((await StableShotAsync(canvas)).SequenceEqual(before))
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the canvas did not change after typing into the xterm");
                await Task.Delay(200, Ct);
            }

            // Cross-site WebSocket hijacking: a page of another origin on the same host (the same site, so the
            // SameSite cookie goes along) opens the VNC socket in the browser that holds the cookie.
            var vncUrl = $"ws://{orchestrator.BaseAddress.Authority}/v1/sandboxes/{id}/box/desktop/vnc";
            var elsewhere = await context.NewPageAsync();
            await elsewhere.GotoAsync($"http://127.0.0.1:{orchestrator.WebPort}/page");
            Assert.Equal("refused", await elsewhere.EvaluateAsync<string>("""
                url => new Promise(done => {
                  const ws = new WebSocket(url);
                  ws.onopen = () => done('opened');
                  ws.onerror = () => done('refused');
                })
                """, vncUrl));
            Assert.Equal("opened", await page.EvaluateAsync<string>("""
                url => new Promise(done => {
                  const ws = new WebSocket(url);
                  ws.onopen = () => { ws.close(); done('opened'); };
                  ws.onerror = () => done('refused');
                })
                """, vncUrl));

            // Without a key (a fresh browser context has no cookie), the page and the socket are refused.
            await using var stranger = await browser.NewContextAsync();
            var refused = await (await stranger.NewPageAsync()).GotoAsync(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/desktop/view").ToString());
            Assert.Equal(401, refused!.Status);
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            var ws = new Uri($"ws://127.0.0.1:{orchestrator.Port}/v1/sandboxes/{id}/box/desktop/vnc");
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(ws, Ct));
            Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
        }
        finally
        {
            using var client = orchestrator.Client(orchestrator.AdminKey);
            await client.DeleteAsync($"v1/sandboxes/{id}", Ct);
        }
    }

    [Fact]
    public async Task TheVncSocket_ThroughTheOrchestrator_NeedsTheCallersKey()
    {
        var id = await CreateSandboxAsync();
        try
        {
            var ws = new Uri($"ws://127.0.0.1:{orchestrator.Port}/v1/sandboxes/{id}/box/desktop/vnc");
            using (var anonymous = new ClientWebSocket())
            {
                anonymous.Options.CollectHttpResponseDetails = true;
                await Assert.ThrowsAsync<WebSocketException>(() => anonymous.ConnectAsync(ws, Ct));
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.HttpStatusCode);
            }

            using var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol("binary");
            await socket.ConnectAsync(new Uri(ws + "?api_key=" + Uri.EscapeDataString(orchestrator.AdminKey)), Ct);
            var buffer = new byte[64];
            var received = await socket.ReceiveAsync(buffer, Ct);
            Assert.Equal("RFB 003.008\n", System.Text.Encoding.ASCII.GetString(buffer, 0, received.Count));
        }
        finally
        {
            using var client = orchestrator.Client(orchestrator.AdminKey);
            await client.DeleteAsync($"v1/sandboxes/{id}", Ct);
        }
    }

    private async Task<string> CreateSandboxAsync()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var response = await client.PostAsJsonAsync("v1/sandboxes", new { }, Ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The canvas's pixels once two screenshots in a row agree (noVNC may still be drawing an update).</summary>
    private static async Task<byte[]> StableShotAsync(ILocator canvas)
    {
        var previous = await canvas.ScreenshotAsync();
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(150, Ct);
            var next = await canvas.ScreenshotAsync();
            if (next.SequenceEqual(previous))
            {
                return next;
            }

            previous = next;
        }

        return previous;
    }

    private static async Task<DesktopWindow> WaitForWindowAsync(BoxClient box, string title)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if ((await box.DesktopWindowsAsync(Ct)).FirstOrDefault(w => w.Title == title) is { } window)
            {
                return window;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"{title} did not appear on the sandbox's desktop");
            await Task.Delay(100, Ct);
        }
    }
}
