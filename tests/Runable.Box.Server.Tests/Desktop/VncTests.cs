using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Runable.Box.Desktop;
using Runable.Box.Protocol.Desktop;
using Runable.Box.Server.Desktop;

namespace Runable.Box.Server.Tests.Desktop;

/// <summary>The desktop's live view: the VNC WebSocket against a real Xvfb and x11vnc, its auth, and noVNC's page.</summary>
public sealed class VncTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WithoutTheKey_TheViewAndTheSocketAreRefused()
    {
        using var anonymous = box.AnonymousHttp();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("desktop/view", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("desktop/view/core/rfb.js", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("desktop/vnc", Ct)).StatusCode);

        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WebSocketUri("desktop/vnc"), Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    [Fact]
    public async Task ThePage_WithTheKeyInItsAddress_SetsTheCookie_AndServesNoVnc()
    {
        using var handler = new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { BaseAddress = box.BaseAddress };
        using var page = await browser.GetAsync($"desktop/view?view_only=true&api_key={BoxServerFixture.ApiKey}", Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.StartsWith("text/html", page.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync(Ct);
        Assert.Contains("./view/core/rfb.js", html, StringComparison.Ordinal);
        Assert.Contains("new URL('vnc'", html, StringComparison.Ordinal);

        // The cookie alone now opens noVNC's modules.
        using var module = await browser.GetAsync("desktop/view/core/rfb.js", Ct);
        Assert.Equal(HttpStatusCode.OK, module.StatusCode);
        Assert.Equal("text/javascript", module.Content.Headers.ContentType!.MediaType);
        Assert.Contains("export default class RFB", await module.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var http = box.Http();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("desktop/view/..%2F..%2F..%2Fetc%2Fpasswd", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("desktop/view/utils/novnc_proxy", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("desktop/vnc", Ct)).StatusCode);
    }

    [Fact]
    public async Task TheCookie_FromAPageOfAnotherOrigin_DoesNotOpenTheSocket()
    {
        var cookie = $"{Auth.ApiKeyMiddleware.CookieName}={BoxServerFixture.ApiKey}";
        var own = $"http://{box.BaseAddress.Authority}";

        // Cross-site WebSocket hijacking: a page on another port of the same host (same site, so SameSite lets the
        // cookie go) opens the VNC socket.
        using var hijack = new ClientWebSocket();
        hijack.Options.CollectHttpResponseDetails = true;
        hijack.Options.SetRequestHeader("Cookie", cookie);
        hijack.Options.SetRequestHeader("Origin", $"http://{box.BaseAddress.Host}:1");
        await Assert.ThrowsAsync<WebSocketException>(() => hijack.ConnectAsync(WebSocketUri("desktop/vnc"), Ct));
        Assert.Equal(HttpStatusCode.Forbidden, hijack.HttpStatusCode);

        // noVNC's own page (same origin) opens it with the same cookie.
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", cookie);
        socket.Options.SetRequestHeader("Origin", own);
        socket.Options.AddSubProtocol("binary");
        await socket.ConnectAsync(WebSocketUri("desktop/vnc"), Ct);
        using var vnc = new RfbConnection(socket);
        Assert.Equal((1280, 800), await vnc.HandshakeAsync());

        // With the key in a header the Origin does not matter (the header is not something a page gets for free).
        using var http = box.Http();
        using var request = new HttpRequestMessage(HttpMethod.Get, "desktop/view");
        request.Headers.Add("Origin", "http://elsewhere.example");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request, Ct)).StatusCode);
    }

    [Fact]
    public async Task TheSocket_SpeaksRfb_AndSendsTheScreen()
    {
        Assert.True((await box.Client.HealthAsync(Ct)).Features.DesktopView);
        using var vnc = await ConnectAsync(viewOnly: false);
        Assert.Equal("binary", vnc.Socket.SubProtocol);
        var (width, height) = await vnc.HandshakeAsync();
        Assert.Equal((1280, 800), (width, height));

        await vnc.SendAsync([2, 0, 0, 1, 0, 0, 0, 0]); // SetEncodings: Raw
        await vnc.SendAsync(UpdateRequest(width, height));
        var type = (await vnc.ReadAsync(1))[0];
        Assert.Equal(0, type); // FramebufferUpdate
        var header = await vnc.ReadAsync(3);
        Assert.True(BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1)) > 0, "the update has rectangles");
    }

    [Fact]
    public async Task TheVncServer_ListensOnNoTcpPort_AndIsRestartedWhenItDied()
    {
        using (var first = await ConnectAsync(viewOnly: false))
        {
            await first.HandshakeAsync();
        }

        var socketPath = box.Services.GetRequiredService<VncServer>().SocketPath;
        var pid = await PgrepAsync(socketPath);
        Assert.NotNull(pid);
        var listening = await RunAsync("ss", "-ltnpH");
        Assert.DoesNotContain($"pid={pid},", listening, StringComparison.Ordinal);

        Process.GetProcessById(pid.Value).Kill();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await PgrepAsync(socketPath) == pid)
        {
            Assert.True(DateTime.UtcNow < deadline, "x11vnc did not die");
            await Task.Delay(50, Ct);
        }

        using var again = await ConnectAsync(viewOnly: false);
        Assert.Equal((1280, 800), await again.HandshakeAsync());
        Assert.NotEqual(pid, await PgrepAsync(socketPath));
    }

    [Fact]
    public async Task PointerEvents_MoveTheCursor_ButNotInViewOnlyMode()
    {
        using var normal = await ConnectAsync(viewOnly: false);
        using var watcher = await ConnectAsync(viewOnly: true);
        await normal.HandshakeAsync();
        await watcher.HandshakeAsync();

        await Action("mouse_move", 100, 100);
        await watcher.SendAsync(Pointer(500, 400));
        await watcher.SendAsync([4, 1, 0, 0, 0, 0, 0, 0x61]); // KeyEvent 'a' down: dropped too
        await watcher.SendAsync(UpdateRequest(16, 16)); // still passed on after the dropped events
        Assert.Equal(0, (await watcher.ReadAsync(1))[0]);
        await Task.Delay(300, Ct);
        Assert.Equal([100, 100], await CursorAsync());

        await normal.SendAsync(Pointer(500, 400));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!(await CursorAsync()).SequenceEqual([500, 400]))
        {
            Assert.True(DateTime.UtcNow < deadline, "the pointer event of the normal session did not move the cursor");
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public void TheViewOnlyFilter_PassesTheHandshakeAndRequests_DropsInput_AndRefusesTheUnknown()
    {
        var filter = new RfbViewOnlyFilter();
        var output = new ArrayBufferWriter<byte>();
        byte[] stream =
        [
            .. "RFB 003.008\n"u8, 1, 1, // version, security None, ClientInit shared
            0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0, // SetPixelFormat
            2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7, // SetEncodings, 2
            5, 1, 0, 10, 0, 10, // PointerEvent
            4, 1, 0, 0, 0, 0, 0, 0x61, // KeyEvent
            6, 0, 0, 0, 0, 0, 0, 3, (byte)'a', (byte)'b', (byte)'c', // ClientCutText
            3, 1, 0, 0, 0, 0, 0, 16, 0, 16, // FramebufferUpdateRequest
        ];
        // Byte by byte: messages split across frames are held until whole.
        foreach (var b in stream)
        {
            Assert.True(filter.Filter([b], output));
        }

        byte[] expected = [.. stream[..14], .. stream[14..34], .. stream[34..46], .. stream[^10..]];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
        Assert.False(filter.Filter([99], output));
        Assert.NotNull(filter.Error);

        var vncAuth = new RfbViewOnlyFilter();
        Assert.False(vncAuth.Filter([.. "RFB 003.008\n"u8, 2], new ArrayBufferWriter<byte>()));
    }

    private static async Task<int?> PgrepAsync(string socketPath)
    {
        var found = (await RunAsync("pgrep", "-f", "x11vnc .*-unixsock " + socketPath)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return found.Length == 0 ? null : int.Parse(found[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return output;
    }

    private static byte[] Pointer(int x, int y)
    {
        var message = new byte[6];
        message[0] = 5;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)y);
        return message;
    }

    private static byte[] UpdateRequest(int width, int height)
    {
        var message = new byte[10];
        message[0] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8), (ushort)height);
        return message;
    }

    private async Task<List<int>> CursorAsync() => [.. (await Action("cursor_position")).Cursor!];

    private async Task<DesktopActionResult> Action(string action, int? x = null, int? y = null) =>
        await box.Client.DesktopActionAsync(new DesktopActionRequest { Action = action, Coordinate = x is null ? null : [x.Value, y!.Value] }, Ct);

    private Uri WebSocketUri(string path) => new(new Uri(box.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), path);

    private async Task<RfbConnection> ConnectAsync(bool viewOnly)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-API-Key", BoxServerFixture.ApiKey);
        socket.Options.AddSubProtocol("binary");
        await socket.ConnectAsync(WebSocketUri(viewOnly ? "desktop/vnc?view_only=true" : "desktop/vnc"), Ct);
        return new RfbConnection(socket);
    }

    /// <summary>An RFB client over the WebSocket: reads exact byte counts across frames.</summary>
    private sealed class RfbConnection(ClientWebSocket socket) : IDisposable
    {
        private readonly List<byte> _received = [];

        public ClientWebSocket Socket => socket;

        /// <summary>Version 3.8, security None, shared ClientInit; returns the screen's size from ServerInit.</summary>
        public async Task<(int Width, int Height)> HandshakeAsync()
        {
            Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await ReadAsync(12)));
            await SendAsync("RFB 003.008\n"u8.ToArray());
            var types = await ReadAsync((await ReadAsync(1))[0]);
            Assert.Contains((byte)1, types);
            await SendAsync([1]);
            Assert.Equal(new byte[4], await ReadAsync(4)); // SecurityResult OK
            await SendAsync([1]);
            var init = await ReadAsync(24);
            await ReadAsync((int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20))); // the desktop's name
            return (BinaryPrimitives.ReadUInt16BigEndian(init), BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2)));
        }

        public Task SendAsync(byte[] data) => socket.SendAsync(data, WebSocketMessageType.Binary, true, Ct);

        public async Task<byte[]> ReadAsync(int count)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            var buffer = new byte[64 * 1024];
            while (_received.Count < count)
            {
                var result = await socket.ReceiveAsync(buffer, timeout.Token);
                Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
                Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
                _received.AddRange(buffer.AsSpan(0, result.Count));
            }

            var head = _received.GetRange(0, count).ToArray();
            _received.RemoveRange(0, count);
            return head;
        }

        public void Dispose() => socket.Dispose();
    }
}
