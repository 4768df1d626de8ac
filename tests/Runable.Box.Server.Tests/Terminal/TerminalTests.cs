using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Runable.Box.Server.Tests.Terminal;

public sealed class TerminalTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Terminal_TypedCommand_IsRunOnARealTty()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, "tty; echo answer-$((6 * 7))\n");
        var screen = await ReadUntilAsync(socket, "answer-42");
        Assert.Contains("/dev/pts/", screen);
    }

    [Fact]
    public async Task Terminal_ResizeFrame_ChangesTheTerminalSize()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, """{"type":"resize","cols":100,"rows":40}""");
        await SendAsync(socket, "echo size=$(stty size)\n");
        await ReadUntilAsync(socket, "size=40 100");
    }

    [Fact]
    public async Task Terminal_ClosingTheSocket_KillsTheShell()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, "echo pid=$$\n");
        var screen = await ReadUntilAsync(socket, s_pid);
        var pid = int.Parse(s_pid.Match(screen).Groups[1].Value);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", Ct);
        Assert.True(await ProcessGroups.WaitUntilGoneAsync(pid, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Terminal_WithoutKey_IsRefused()
    {
        using var socket = new ClientWebSocket();
        var error = await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(TerminalUri(), Ct));
        Assert.Contains("401", error.Message);
    }

    [Fact]
    public async Task Terminal_OversizedMessage_ClosesWithMessageTooBig()
    {
        using var socket = await ConnectAsync();
        var huge = new byte[2 * 1024 * 1024];
        Array.Fill(huge, (byte)'a');
        await socket.SendAsync(huge, WebSocketMessageType.Text, true, Ct);
        var buffer = new byte[4096];
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        }
        while (result.MessageType != WebSocketMessageType.Close);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
    }

    private Uri TerminalUri() => new(box.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "terminal");

    private async Task<ClientWebSocket> ConnectAsync()
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-API-Key", BoxServerFixture.ApiKey);
        await socket.ConnectAsync(TerminalUri(), Ct);
        return socket;
    }

    private static Task SendAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, Ct);

    private static readonly Regex s_pid = new(@"pid=(\d+)\r?\n");

    private static Task<string> ReadUntilAsync(WebSocket socket, string expected) =>
        ReadUntilAsync(socket, new Regex(Regex.Escape(expected)));

    private static async Task<string> ReadUntilAsync(WebSocket socket, Regex expected)
    {
        var text = new StringBuilder();
        var buffer = new byte[8192];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (!expected.IsMatch(text.ToString()))
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"The terminal closed before '{expected}' appeared; screen: {text}");
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }

        return text.ToString();
    }
}
