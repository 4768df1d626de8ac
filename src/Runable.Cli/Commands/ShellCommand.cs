using System.CommandLine;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Runable.Cli.Remote;

namespace Runable.Cli.Commands;

/// <summary>
/// <c>runable shell SANDBOX</c>: an interactive terminal in a sandbox over the box's <c>/terminal</c> WebSocket. On a
/// terminal the local side is put in raw mode and window sizes are passed on; with piped input, the input is sent
/// as typed and its end as Ctrl-D. It ends when the remote shell exits.
/// </summary>
public static class ShellCommand
{
    private const int ChunkBytes = 16 * 1024;

    /// <summary>Creates the <c>shell</c> command; <paramref name="environment"/> reads environment variables and
    /// <paramref name="input"/>, when given, replaces standard input (it is then never treated as a terminal).</summary>
    public static Command Create(Func<string, string?> environment, Func<Stream>? input = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var sandbox = new Argument<string>("SANDBOX") { Description = "The sandbox's id." };
        var remote = new RemoteOptions();
        var command = new Command("shell", "Open an interactive shell in a sandbox; exit (or Ctrl-D) ends it.") { sandbox };
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, async (connection, token) =>
        {
            var id = parseResult.GetRequiredValue(sandbox);
            // A WebSocket handshake that fails carries no problem body: asking for the sandbox first turns a wrong
            // id or key into the orchestrator's own message.
            await connection.SendAsync(HttpMethod.Get, $"v1/sandboxes/{Uri.EscapeDataString(id)}", null, token);
            var interactive = input is null && !Console.IsInputRedirected;
            // Standard input is read as plain bytes from its descriptor: the console's own reader edits lines.
            await using var stdin = input?.Invoke() ?? new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
            return await RunAsync(connection, id, stdin, interactive, parseResult.InvocationConfiguration.Output, token);
        }, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(OrchestratorConnection connection, string id, Stream input, bool interactive,
        TextWriter output, CancellationToken cancellationToken)
    {
        var size = interactive ? WindowSize() : null;
        var path = $"v1/sandboxes/{Uri.EscapeDataString(id)}/box/terminal" +
            (size is (int cols, int rows) ? string.Create(CultureInfo.InvariantCulture, $"?cols={cols}&rows={rows}") : "");
        using var socket = new ClientWebSocket();
        if (connection.Key is { } key)
        {
            socket.Options.SetRequestHeader("X-API-Key", key);
        }

        await socket.ConnectAsync(connection.WebSocketUri(path), cancellationToken);
        using var sender = new Sender(socket);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var raw = interactive ? RawTerminal.Enter() : null;
        using var hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var resized = interactive ? PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => sender.ResizeAsync(WindowSize())) : null;
        await sender.ResizeAsync(size);
        // Not awaited: a read from a terminal cannot be cancelled, and the session ends when the shell does.
        _ = PumpInputAsync(input, sender, endWithCtrlD: !interactive, stop.Token);
        try
        {
            await PumpOutputAsync(socket, sender, output, stop.Token);
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await sender.CloseAsync();
            return 130;
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    private static async Task PumpOutputAsync(ClientWebSocket socket, Sender sender, TextWriter output, CancellationToken cancellationToken)
    {
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var bytes = new byte[ChunkBytes];
        var chars = new char[ChunkBytes + 4];
        while (socket.State == WebSocketState.Open)
        {
            var received = await socket.ReceiveAsync(bytes, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await sender.CloseAsync();
                return;
            }

            var count = decoder.GetChars(bytes, 0, received.Count, chars, 0, flush: false);
            await output.WriteAsync(chars.AsMemory(0, count), cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
    }

    private static async Task PumpInputAsync(Stream input, Sender sender, bool endWithCtrlD, CancellationToken cancellationToken)
    {
        // Keystrokes go out as text frames, so a character split across two reads is held back until it is whole.
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var bytes = new byte[ChunkBytes];
        var chars = new char[ChunkBytes + 4];
        try
        {
            int read;
            while ((read = await input.ReadAsync(bytes, cancellationToken)) > 0)
            {
                var count = decoder.GetChars(bytes, 0, read, chars, 0, flush: false);
                if (count > 0 && !await sender.SendAsync(new string(chars, 0, count), cancellationToken))
                {
                    return;
                }
            }

            if (endWithCtrlD)
            {
                // The end of piped input, told the way a terminal tells it.
                await sender.SendAsync("\u0004", cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static (int Cols, int Rows)? WindowSize()
    {
        try
        {
            return Console.IsOutputRedirected || Console.WindowWidth <= 0 || Console.WindowHeight <= 0
                ? null
                : (Console.WindowWidth, Console.WindowHeight);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Sends on the socket one message at a time (keystrokes, resizes and the close come from different threads).</summary>
    private sealed class Sender(ClientWebSocket socket) : IDisposable
    {
        private readonly SemaphoreSlim _lock = new(1, 1);

        /// <summary>Sends a text frame; false once the socket is no longer open.</summary>
        public async Task<bool> SendAsync(string text, CancellationToken cancellationToken)
        {
            await _lock.WaitAsync(cancellationToken);
            try
            {
                if (socket.State != WebSocketState.Open)
                {
                    return false;
                }

                await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                return true;
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException)
            {
                return false;
            }
            finally
            {
                _lock.Release();
            }
        }

        public Task ResizeAsync((int Cols, int Rows)? size) =>
            size is (int cols, int rows)
                ? SendAsync(string.Create(CultureInfo.InvariantCulture, $$"""{"type":"resize","cols":{{cols}},"rows":{{rows}}}"""), CancellationToken.None)
                : Task.CompletedTask;

        /// <summary>Answers or starts the close handshake.</summary>
        public async Task CloseAsync()
        {
            await _lock.WaitAsync();
            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                }
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException)
            {
            }
            finally
            {
                _lock.Release();
            }
        }

        public void Dispose() => _lock.Dispose();
    }
}
