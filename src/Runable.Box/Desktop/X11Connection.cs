using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Runable.Box.Desktop;

/// <summary>
/// A connection to a box's X server spoken in the core protocol itself: over the display's unix socket,
/// authenticated with its MIT-MAGIC-COOKIE-1. No libX11, whose I/O errors end the calling process, and no process
/// to start. Little-endian; requests are built by the callers (<see cref="X11Capture"/>, <see cref="TypingKeymap"/>).
/// </summary>
internal sealed class X11Connection : IDisposable
{
    private const byte GetInputFocusOpcode = 43;
    private readonly Socket _socket;
    private NetworkStream _stream = null!;

    private X11Connection(Socket socket) => _socket = socket;

    /// <summary>The first screen's root window.</summary>
    public uint Root { get; private set; }

    public int Width { get; private set; }

    public int Height { get; private set; }

    public int Depth { get; private set; }

    /// <summary>Bits per pixel of the root's depth in images (ZPixmap).</summary>
    public int BitsPerPixel { get; private set; }

    public byte MinKeycode { get; private set; }

    public byte MaxKeycode { get; private set; }

    /// <summary>Connects to display <c>:<paramref name="display"/></c> and reads the server's setup.</summary>
    public static async Task<X11Connection> OpenAsync(int display, byte[] cookie, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var connection = new X11Connection(socket);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint($"/tmp/.X11-unix/X{display}"), cancellationToken).ConfigureAwait(false);
            connection._stream = new NetworkStream(socket, ownsSocket: false);
            await connection._stream.WriteAsync(SetupRequest(cookie), cancellationToken).ConfigureAwait(false);
            var head = new byte[8];
            await connection._stream.ReadExactlyAsync(head, cancellationToken).ConfigureAwait(false);
            var setup = new byte[BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(6)) * 4];
            await connection._stream.ReadExactlyAsync(setup, cancellationToken).ConfigureAwait(false);
            if (head[0] != 1)
            {
                var reason = Encoding.ASCII.GetString(setup, 0, Math.Min(head[1], setup.Length));
                throw new InvalidOperationException($"The X server refused the connection: {reason}");
            }

            connection.ReadSetup(setup);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
        _stream.WriteAsync(request, cancellationToken);

    /// <summary>
    /// The next reply: its 32-byte header and what follows it. Events (a change of the keyboard map is announced
    /// to every client) are skipped; an error throws.
    /// </summary>
    public async Task<(byte[] Header, byte[] Body)> ReadReplyAsync(CancellationToken cancellationToken)
    {
        var header = new byte[32];
        while (true)
        {
            await _stream.ReadExactlyAsync(header, cancellationToken).ConfigureAwait(false);
            switch (header[0])
            {
                case 0:
                    throw new InvalidOperationException($"The X server answered request {header[10]} with error {header[1]}.");
                case 1:
                    var body = new byte[checked((int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)) * 4)];
                    await _stream.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
                    return (header, body);
            }
        }
    }

    /// <summary>A round trip: returns once the server has handled every request sent before, throwing if one failed.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await SendAsync(new byte[] { GetInputFocusOpcode, 0, 1, 0 }, cancellationToken).ConfigureAwait(false);
        await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _socket.Dispose();
    }

    public static int Pad(int length) => (length + 3) & ~3;

    private static byte[] SetupRequest(byte[] cookie)
    {
        var name = "MIT-MAGIC-COOKIE-1"u8;
        var request = new byte[12 + Pad(name.Length) + Pad(cookie.Length)];
        request[0] = (byte)'l'; // little-endian
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), 11);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), (ushort)name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(8), (ushort)cookie.Length);
        name.CopyTo(request.AsSpan(12));
        cookie.CopyTo(request.AsSpan(12 + Pad(name.Length)));
        return request;
    }

    /// <summary>The keycode range, the first screen's root window, size and depth, and the bits per pixel of that depth.</summary>
    private void ReadSetup(ReadOnlySpan<byte> setup)
    {
        var vendorLength = BinaryPrimitives.ReadUInt16LittleEndian(setup[16..]);
        var formatCount = setup[21];
        MinKeycode = setup[26];
        MaxKeycode = setup[27];
        var formats = setup[(32 + Pad(vendorLength))..];
        var screen = formats[(formatCount * 8)..];
        Root = BinaryPrimitives.ReadUInt32LittleEndian(screen);
        Width = BinaryPrimitives.ReadUInt16LittleEndian(screen[20..]);
        Height = BinaryPrimitives.ReadUInt16LittleEndian(screen[22..]);
        Depth = screen[38];
        for (var i = 0; i < formatCount; i++)
        {
            if (formats[i * 8] == Depth)
            {
                BitsPerPixel = formats[i * 8 + 1];
            }
        }
    }
}
