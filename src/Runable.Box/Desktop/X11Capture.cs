using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Runable.Box.Desktop;

/// <summary>
/// Grabs the root window of a display straight from the X server: one connection over its unix socket,
/// authenticated with the display's MIT-MAGIC-COOKIE-1, and one <c>GetImage</c> request (ZPixmap) — no process
/// to start and no image format to parse in between, and no libX11, whose I/O errors end the calling process.
/// Handles the 24-bit depth with 32 bits per pixel that Xvfb uses.
/// </summary>
internal static class X11Capture
{
    private const byte GetImageOpcode = 73;
    private const byte ZPixmap = 2;

    /// <summary>The screen as RGB bytes (3 per pixel, rows top to bottom).</summary>
    public static async Task<(byte[] Rgb, int Width, int Height)> CaptureAsync(int display, byte[] cookie, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint($"/tmp/.X11-unix/X{display}"), cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        await stream.WriteAsync(SetupRequest(cookie), cancellationToken).ConfigureAwait(false);
        var head = new byte[8];
        await stream.ReadExactlyAsync(head, cancellationToken).ConfigureAwait(false);
        var setup = new byte[BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(6)) * 4];
        await stream.ReadExactlyAsync(setup, cancellationToken).ConfigureAwait(false);
        if (head[0] != 1)
        {
            var reason = Encoding.ASCII.GetString(setup, 0, Math.Min(head[1], setup.Length));
            throw new InvalidOperationException($"The X server refused the connection: {reason}");
        }

        var (root, width, height, depth, bitsPerPixel) = ParseSetup(setup);
        if (depth != 24 || bitsPerPixel != 32)
        {
            throw new NotSupportedException($"Only 24-bit screens with 32 bits per pixel are read directly (this one: {depth}/{bitsPerPixel}).");
        }

        var request = new byte[20];
        request[0] = GetImageOpcode;
        request[1] = ZPixmap;
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), 5);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), root);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(12), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(14), (ushort)height);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(16), uint.MaxValue);
        await stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);

        var reply = new byte[32];
        await stream.ReadExactlyAsync(reply, cancellationToken).ConfigureAwait(false);
        if (reply[0] != 1)
        {
            throw new InvalidOperationException($"GetImage failed with X error {reply[1]}.");
        }

        var pixels = new byte[checked((int)BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(4)) * 4)];
        await stream.ReadExactlyAsync(pixels, cancellationToken).ConfigureAwait(false);
        if (pixels.Length < width * height * 4)
        {
            throw new InvalidOperationException($"GetImage returned {pixels.Length} bytes for a {width}x{height} screen.");
        }

        // Little-endian 32-bit pixels: blue, green, red, unused.
        var rgb = new byte[width * height * 3];
        for (int i = 0, o = 0; o < rgb.Length; i += 4, o += 3)
        {
            rgb[o] = pixels[i + 2];
            rgb[o + 1] = pixels[i + 1];
            rgb[o + 2] = pixels[i];
        }

        return (rgb, width, height);
    }

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

    /// <summary>The first screen's root window, size and depth, and the bits per pixel of that depth.</summary>
    private static (uint Root, int Width, int Height, int Depth, int BitsPerPixel) ParseSetup(ReadOnlySpan<byte> setup)
    {
        var vendorLength = BinaryPrimitives.ReadUInt16LittleEndian(setup[16..]);
        var formatCount = setup[21];
        var formats = setup[(32 + Pad(vendorLength))..];
        var screen = formats[(formatCount * 8)..];
        var root = BinaryPrimitives.ReadUInt32LittleEndian(screen);
        var width = BinaryPrimitives.ReadUInt16LittleEndian(screen[20..]);
        var height = BinaryPrimitives.ReadUInt16LittleEndian(screen[22..]);
        int depth = screen[38];
        var bitsPerPixel = 0;
        for (var i = 0; i < formatCount; i++)
        {
            if (formats[i * 8] == depth)
            {
                bitsPerPixel = formats[i * 8 + 1];
            }
        }

        return (root, width, height, depth, bitsPerPixel);
    }

    private static int Pad(int length) => (length + 3) & ~3;
}
