using System.Diagnostics;
using System.Security.Cryptography;
using Runable.Box.Desktop;

namespace Runable.Box.Server.Tests.Desktop;

/// <summary>The desktop's PNG encoder, read back by an independent reader and by Python.</summary>
public sealed class DesktopPngEncoderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Encode_WritesValidChunks_AndTheSamePixelsComeBack()
    {
        var (rgb, width, height) = Sample(97, 61);
        var png = PngEncoder.EncodeRgb(rgb, width, height);
        var (decoded, w, h) = PngReader.Read(png);
        Assert.Equal((width, height), (w, h));
        Assert.Equal(rgb, decoded);
        Assert.Equal(0xCBF43926u, PngEncoder.Crc32("123456789"u8)); // the CRC-32 check value
    }

    [Fact]
    public void Encode_FlatScreens_CompressWell()
    {
        var rgb = new byte[1280 * 800 * 3];
        for (var i = 0; i < rgb.Length; i += 3)
        {
            (rgb[i], rgb[i + 1], rgb[i + 2]) = ((byte)(i / 3840 % 256), 40, 200);
        }

        var png = PngEncoder.EncodeRgb(rgb, 1280, 800);
        Assert.True(png.Length < 40_000, $"{png.Length} bytes");
        Assert.Equal(rgb, PngReader.Read(png).Rgb);
    }

    [Fact]
    public void Scale_AveragesTheSourcePixelsEachOutputPixelCovers()
    {
        // 4x2 -> 2x1: each output pixel is the mean of a 2x2 block.
        byte[] rgb =
        [
            0, 0, 0, 100, 100, 100, 10, 20, 30, 10, 20, 30,
            200, 200, 200, 100, 100, 100, 30, 40, 50, 30, 40, 50,
        ];
        Assert.Equal([100, 100, 100, 20, 30, 40], PngEncoder.ScaleRgb(rgb, 4, 2, 2, 1));
        var (sample, width, height) = Sample(40, 30);
        Assert.Equal(sample, PngEncoder.ScaleRgb(sample, width, height, width, height));
    }

    [Fact]
    public async Task Python_ReadsTheSamePixels()
    {
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var (rgb, width, height) = Sample(123, 77);
        var path = Path.Combine(Path.GetTempPath(), $"runable-png-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(path, PngEncoder.EncodeRgb(rgb, width, height), Ct);
        try
        {
            // A decoder made of zlib and struct only (PIL too when installed), printing the pixels' SHA-256.
            const string Script = """
                import hashlib, struct, sys, zlib
                data = open(sys.argv[1], 'rb').read()
                assert data[:8] == b'\x89PNG\r\n\x1a\n'
                pos, idat = 8, b''
                while pos < len(data):
                    length, kind = struct.unpack('>I4s', data[pos:pos + 8])
                    body = data[pos + 8:pos + 8 + length]
                    assert struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body) & 0xffffffff
                    if kind == b'IHDR': w, h, depth, colour = struct.unpack('>IIBB', body[:10])
                    if kind == b'IDAT': idat += body
                    pos += 12 + length
                raw, stride, out = zlib.decompress(idat), w * 3, bytearray()
                prev = bytearray(stride)
                for y in range(h):
                    f, line, row = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)], bytearray(stride)
                    for i in range(stride):
                        a = row[i - 3] if i >= 3 else 0
                        b = prev[i]
                        row[i] = (line[i] + (0, a, b, (a + b) // 2)[f]) & 255 if f < 4 else None
                    out += row
                    prev = row
                print(w, h, hashlib.sha256(bytes(out)).hexdigest())
                try:
                    import PIL.Image
                    print('pil', hashlib.sha256(PIL.Image.open(sys.argv[1]).convert('RGB').tobytes()).hexdigest())
                except ImportError:
                    pass
                """;
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(Script);
            start.ArgumentList.Add(path);
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync(Ct);
            var error = await process.StandardError.ReadToEndAsync(Ct);
            await process.WaitForExitAsync(Ct);
            Assert.True(process.ExitCode == 0, error);
            var hash = Convert.ToHexStringLower(SHA256.HashData(rgb));
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal($"{width} {height} {hash}", lines[0]);
            if (lines.Length > 1)
            {
                Assert.Equal($"pil {hash}", lines[1]);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Noise, flat areas and gradients, so every filter gets picked somewhere.</summary>
    private static (byte[] Rgb, int Width, int Height) Sample(int width, int height)
    {
        var random = new Random(width * 1000 + height);
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                if (y < height / 3)
                {
                    random.NextBytes(rgb.AsSpan(i, 3));
                }
                else if (y < 2 * height / 3)
                {
                    (rgb[i], rgb[i + 1], rgb[i + 2]) = ((byte)x, (byte)(x * 2), (byte)y);
                }
                else
                {
                    (rgb[i], rgb[i + 1], rgb[i + 2]) = (250, 250, (byte)(y * 3));
                }
            }
        }

        return (rgb, width, height);
    }
}
