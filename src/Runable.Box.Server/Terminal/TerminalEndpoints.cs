using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Runable.Box.Server.Hosting;
using Runable.Box.Terminal;

namespace Runable.Box.Server.Terminal;

/// <summary>Maps <c>GET /terminal</c>: a WebSocket to an interactive shell on a pseudo-terminal.</summary>
public static class TerminalEndpoints
{
    public static IEndpointRouteBuilder MapTerminalEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/terminal", async (HttpContext context, TerminalService terminals, BoxServerSettings settings,
                int? cols, int? rows, string? cwd) =>
            {
                if (!context.WebSockets.IsWebSocketRequest)
                {
                    throw Protocol.BoxException.InvalidArgument("/terminal is a WebSocket: connect with a WebSocket client (Upgrade: websocket).");
                }

                using var terminal = terminals.Open(cols ?? 120, rows ?? 32, cwd);
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                await BridgeAsync(socket, terminal, settings.MaxWebSocketMessageBytes, context.RequestAborted);
            })
            .WithTags("Terminal")
            .WithSummary("WebSocket to an interactive bash on a PTY: text frames in and out; a JSON frame {\"type\":\"resize\",\"cols\":N,\"rows\":M} resizes.");
        return endpoints;
    }

    private static async Task BridgeAsync(WebSocket socket, TerminalSession terminal, int maxMessageBytes, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var output = PumpOutputAsync(socket, terminal, stop.Token);
        try
        {
            var buffer = new ArrayBufferWriter<byte>();
            var chunk = new byte[16 * 1024];
            while (socket.State == WebSocketState.Open)
            {
                var received = await socket.ReceiveAsync(chunk, stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "Bye.", CancellationToken.None);
                    }

                    break;
                }

                if (buffer.WrittenCount + received.Count > maxMessageBytes)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, $"Messages are limited to {maxMessageBytes} bytes.", CancellationToken.None);
                    break;
                }

                buffer.Write(chunk.AsSpan(0, received.Count));
                if (!received.EndOfMessage)
                {
                    continue;
                }

                if (!TryResize(buffer.WrittenSpan, terminal))
                {
                    terminal.Write(buffer.WrittenSpan);
                }

                buffer.Clear();
            }
        }
        catch (WebSocketException)
        {
            // The client went away without a close handshake.
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await stop.CancelAsync();
            terminal.Dispose();
            await output;
        }
    }

    private static bool TryResize(ReadOnlySpan<byte> message, TerminalSession terminal)
    {
        if (message.Length > 256 || message.IsEmpty || message[0] != (byte)'{')
        {
            return false;
        }

        try
        {
            using var json = JsonDocument.Parse(message.ToArray());
            if (json.RootElement.ValueKind != JsonValueKind.Object ||
                !json.RootElement.TryGetProperty("type", out var type) || type.GetString() != "resize")
            {
                return false;
            }

            terminal.Resize(json.RootElement.GetProperty("cols").GetInt32(), json.RootElement.GetProperty("rows").GetInt32());
            return true;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or Protocol.BoxException)
        {
            return false;
        }
    }

    private static async Task PumpOutputAsync(WebSocket socket, TerminalSession terminal, CancellationToken cancellationToken)
    {
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var bytes = new byte[16 * 1024];
        var chars = new char[16 * 1024 + 4];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var read = await terminal.ReadAsync(bytes, CancellationToken.None);
                if (read == 0)
                {
                    break;
                }

                var count = decoder.GetChars(bytes, 0, read, chars, 0, flush: false);
                if (count > 0 && socket.State == WebSocketState.Open)
                {
                    await socket.SendAsync(Encoding.UTF8.GetBytes(chars, 0, count), WebSocketMessageType.Text, true, cancellationToken);
                }
            }

            if (socket.State == WebSocketState.Open)
            {
                // Only the close frame is sent here: the receive loop reads the client's answer.
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "The shell exited.", CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
