using System.Text;
using Runable.Box.Shell;

namespace Runable.Box.Tests.Shell;

public sealed class MarkerScannerTests
{
    private const string Nonce = "00112233445566778899AABBCCDDEEFF";

    [Fact]
    public void Scan_MarkerInOneChunk_SplitsOutputStatusAndRest()
    {
        var scanner = new MarkerScanner(Nonce);
        var output = scanner.Scan(Bytes($"hello\u001eRUNABLE:{Nonce}:7\u001etail"), out var marker, out var rest);
        Assert.Equal("hello", Encoding.UTF8.GetString(output));
        Assert.Equal(":7", marker);
        Assert.Equal("tail", Encoding.UTF8.GetString(rest));
    }

    [Fact]
    public void Scan_MarkerSplitAtEveryByte_IsStillFound()
    {
        var stream = Bytes($"out\u0000put\u001e\u001eRUNABLE:{Nonce}:0\u001e");
        for (var cut = 1; cut < stream.Length; cut++)
        {
            var scanner = new MarkerScanner(Nonce);
            var first = scanner.Scan(stream.AsSpan(0, cut), out var marker1, out _);
            Assert.Null(marker1);
            var second = scanner.Scan(stream.AsSpan(cut), out var marker2, out _);
            Assert.Equal(":0", marker2);
            Assert.Equal("out\u0000put\u001e", Encoding.UTF8.GetString([.. first, .. second]));
        }
    }

    [Fact]
    public void Scan_LookalikeWithAnotherNonce_IsOutput()
    {
        var scanner = new MarkerScanner(Nonce);
        var fake = "\u001eRUNABLE:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0\u001e";
        var output = scanner.Scan(Bytes(fake), out var marker, out _);
        Assert.Null(marker);
        Assert.Equal(fake, Encoding.UTF8.GetString([.. output, .. scanner.Flush()]));
    }

    [Fact]
    public void Scan_PrefixWithoutTerminator_IsReleasedAsOutputOnceTooLong()
    {
        var scanner = new MarkerScanner(Nonce);
        var text = $"\u001eRUNABLE:{Nonce}" + new string('x', 40);
        var output = scanner.Scan(Bytes(text), out var marker, out _);
        Assert.Null(marker);
        Assert.Equal(text, Encoding.UTF8.GetString([.. output, .. scanner.Flush()]));
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
