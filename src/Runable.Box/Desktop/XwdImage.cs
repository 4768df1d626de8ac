using System.Buffers.Binary;
using System.Numerics;

namespace Runable.Box.Desktop;

/// <summary>
/// Reads the output of <c>xwd -root -silent</c> (an XWD file: a big-endian header, the window's name, the
/// colour map, then ZPixmap pixels) into tightly packed 8-bit RGB.
/// </summary>
internal static class XwdImage
{
    private const int HeaderFields = 25;

    /// <summary>Converts an XWD dump of a TrueColor screen (16, 24 or 32 bits a pixel) to RGB.</summary>
    public static (byte[] Rgb, int Width, int Height) ToRgb(ReadOnlySpan<byte> xwd)
    {
        if (xwd.Length < HeaderFields * 4)
        {
            throw new FormatException($"The XWD dump is too short ({xwd.Length} bytes).");
        }

        var header = xwd[..(HeaderFields * 4)].ToArray();
        uint Field(int index) => BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(index * 4));
        var headerSize = (int)Field(0);
        var version = Field(1);
        var format = Field(2);
        var width = (int)Field(4);
        var height = (int)Field(5);
        var byteOrder = Field(7);
        var bitsPerPixel = (int)Field(11);
        var bytesPerLine = (int)Field(12);
        var visualClass = Field(13);
        var masks = (Red: Field(14), Green: Field(15), Blue: Field(16));
        var colours = (int)Field(19);
        if (version != 7 || format != 2)
        {
            throw new FormatException($"Not a ZPixmap XWD dump (version {version}, format {format}).");
        }

        if (visualClass is not (4 or 5) || bitsPerPixel is not (16 or 24 or 32))
        {
            throw new FormatException($"Only TrueColor screens of 16, 24 or 32 bits a pixel are read (visual class {visualClass}, {bitsPerPixel} bits).");
        }

        var offset = (long)headerSize + (long)colours * 12;
        if (width < 1 || height < 1 || bytesPerLine < width * bitsPerPixel / 8 || offset + (long)bytesPerLine * height > xwd.Length)
        {
            throw new FormatException($"The XWD dump is truncated or malformed ({width}x{height}, {bytesPerLine} bytes a line, {xwd.Length} bytes).");
        }

        var pixels = xwd[(int)offset..];
        var rgb = new byte[width * height * 3];
        var bytes = bitsPerPixel / 8;
        var lsb = byteOrder == 0;
        var fast = bitsPerPixel == 32 && lsb && masks == (0xFF0000u, 0xFF00u, 0xFFu);
        var red = Channel(masks.Red);
        var green = Channel(masks.Green);
        var blue = Channel(masks.Blue);
        for (var y = 0; y < height; y++)
        {
            var line = pixels.Slice(y * bytesPerLine, width * bytes);
            var output = rgb.AsSpan(y * width * 3, width * 3);
            if (fast)
            {
                for (var x = 0; x < width; x++)
                {
                    output[x * 3] = line[x * 4 + 2];
                    output[x * 3 + 1] = line[x * 4 + 1];
                    output[x * 3 + 2] = line[x * 4];
                }

                continue;
            }

            for (var x = 0; x < width; x++)
            {
                uint value = 0;
                for (var b = 0; b < bytes; b++)
                {
                    value |= lsb ? (uint)line[x * bytes + b] << (8 * b) : (uint)line[x * bytes + b] << (8 * (bytes - 1 - b));
                }

                output[x * 3] = red.Read(value);
                output[x * 3 + 1] = green.Read(value);
                output[x * 3 + 2] = blue.Read(value);
            }
        }

        return (rgb, width, height);
    }

    private static ChannelMask Channel(uint mask)
    {
        if (mask == 0)
        {
            return new ChannelMask(0, 0, 1);
        }

        var shift = BitOperations.TrailingZeroCount(mask);
        var max = mask >> shift;
        return new ChannelMask(mask, shift, max);
    }

    private readonly record struct ChannelMask(uint Mask, int Shift, uint Max)
    {
        public byte Read(uint value) => Mask == 0 ? (byte)0 : (byte)(((value & Mask) >> Shift) * 255 / Max);
    }
}
