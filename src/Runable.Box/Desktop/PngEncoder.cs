using System.Buffers.Binary;
using System.IO.Compression;

namespace Runable.Box.Desktop;

/// <summary>
/// A small PNG encoder for 8-bit RGB images (screenshots): each row gets the filter (none, sub or up) whose
/// output looks most compressible, the rows are deflated with <see cref="ZLibStream"/> into one IDAT chunk.
/// </summary>
public static class PngEncoder
{
    private static readonly byte[] s_signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] s_crcTable = BuildCrcTable();

    /// <summary>Encodes <paramref name="rgb"/> (3 bytes a pixel, rows top to bottom, no padding) as a PNG file.</summary>
    public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int width, int height, CompressionLevel level = CompressionLevel.Fastest)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var stride = width * 3;
        if (rgb.Length < (long)stride * height)
        {
            throw new ArgumentException($"{width}x{height} RGB needs {(long)stride * height} bytes, not {rgb.Length}.", nameof(rgb));
        }

        using var output = new MemoryStream(stride * height / 8 + 1024);
        output.Write(s_signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8; // bits per sample
        header[9] = 2; // colour type: RGB
        header[10] = 0; // deflate
        header[11] = 0; // adaptive filtering
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR"u8, header);

        using var idat = new MemoryStream(stride * height / 8 + 1024);
        using (var zlib = new ZLibStream(idat, level, leaveOpen: true))
        {
            var line = new byte[1 + stride];
            var sub = new byte[stride];
            var up = new byte[stride];
            for (var y = 0; y < height; y++)
            {
                var row = rgb.Slice(y * stride, stride);
                var previous = y == 0 ? default : rgb.Slice((y - 1) * stride, stride);
                var filter = Filter(row, previous, sub, up);
                line[0] = filter;
                (filter switch { 1 => sub, 2 => up, _ => row }).CopyTo(line.AsSpan(1));
                zlib.Write(line);
            }
        }

        WriteChunk(output, "IDAT"u8, idat.GetBuffer().AsSpan(0, (int)idat.Length));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    /// <summary>The CRC-32 (ISO 3309, as PNG uses it) of <paramref name="data"/>.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data) => ~UpdateCrc(0xFFFFFFFFu, data);

    /// <summary>
    /// Shrinks an RGB image to <paramref name="targetWidth"/> x <paramref name="targetHeight"/> with a box filter:
    /// each output pixel is the average of the source pixels it covers.
    /// </summary>
    public static byte[] ScaleRgb(ReadOnlySpan<byte> rgb, int width, int height, int targetWidth, int targetHeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetHeight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(targetWidth, width);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(targetHeight, height);
        var column = new int[width];
        var columnWeight = new int[targetWidth];
        for (var x = 0; x < width; x++)
        {
            column[x] = (int)((long)x * targetWidth / width);
            columnWeight[column[x]]++;
        }

        var result = new byte[targetWidth * targetHeight * 3];
        var sums = new int[targetWidth * 3];
        var sourceRow = 0;
        for (var ty = 0; ty < targetHeight; ty++)
        {
            Array.Clear(sums);
            var end = (int)((long)(ty + 1) * height / targetHeight);
            var rows = 0;
            for (; sourceRow < end; sourceRow++, rows++)
            {
                var row = rgb.Slice(sourceRow * width * 3, width * 3);
                for (var x = 0; x < width; x++)
                {
                    var target = column[x] * 3;
                    sums[target] += row[x * 3];
                    sums[target + 1] += row[x * 3 + 1];
                    sums[target + 2] += row[x * 3 + 2];
                }
            }

            var output = result.AsSpan(ty * targetWidth * 3, targetWidth * 3);
            for (var tx = 0; tx < targetWidth; tx++)
            {
                var count = columnWeight[tx] * rows;
                for (var c = 0; c < 3; c++)
                {
                    output[tx * 3 + c] = (byte)((sums[tx * 3 + c] + count / 2) / count);
                }
            }
        }

        return result;
    }

    /// <summary>Fills <paramref name="sub"/> and <paramref name="up"/> and picks the filter whose bytes, as signed values, sum smallest (PNG's usual heuristic).</summary>
    private static byte Filter(ReadOnlySpan<byte> row, ReadOnlySpan<byte> previous, Span<byte> sub, Span<byte> up)
    {
        long none = 0, left = 0, above = 0;
        for (var i = 0; i < row.Length; i++)
        {
            var value = row[i];
            var s = (byte)(value - (i >= 3 ? row[i - 3] : 0));
            var u = (byte)(value - (previous.IsEmpty ? 0 : previous[i]));
            sub[i] = s;
            up[i] = u;
            none += value < 128 ? value : 256 - value;
            left += s < 128 ? s : 256 - s;
            above += u < 128 ? u : 256 - u;
        }

        return above <= left && above < none ? (byte)2 : left < none ? (byte)1 : (byte)0;
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        output.Write(number);
        output.Write(type);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(number, ~UpdateCrc(UpdateCrc(0xFFFFFFFFu, type), data));
        output.Write(number);
    }

    private static uint UpdateCrc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
