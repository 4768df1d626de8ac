using System.Buffers.Binary;

namespace Runable.Box.Desktop;

/// <summary>
/// Grabs the root window of a display straight from the X server: one <c>GetImage</c> request (ZPixmap) on an
/// <see cref="X11Connection"/>, no image format to parse in between. Handles the 24-bit depth with 32 bits per
/// pixel that Xvfb uses.
/// </summary>
internal static class X11Capture
{
    private const byte GetImageOpcode = 73;
    private const byte ZPixmap = 2;

    /// <summary>The screen as RGB bytes (3 per pixel, rows top to bottom).</summary>
    public static async Task<(byte[] Rgb, int Width, int Height)> CaptureAsync(int display, byte[] cookie, CancellationToken cancellationToken)
    {
        using var x = await X11Connection.OpenAsync(display, cookie, cancellationToken).ConfigureAwait(false);
        if (x.Depth != 24 || x.BitsPerPixel != 32)
        {
            throw new NotSupportedException($"Only 24-bit screens with 32 bits per pixel are read directly (this one: {x.Depth}/{x.BitsPerPixel}).");
        }

        var (width, height) = (x.Width, x.Height);
        var request = new byte[20];
        request[0] = GetImageOpcode;
        request[1] = ZPixmap;
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), 5);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), x.Root);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(12), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(14), (ushort)height);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(16), uint.MaxValue);
        await x.SendAsync(request, cancellationToken).ConfigureAwait(false);

        var (_, pixels) = await x.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
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
}
