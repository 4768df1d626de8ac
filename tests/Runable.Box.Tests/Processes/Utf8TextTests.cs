using Runable.Box.Processes;

namespace Runable.Box.Tests.Processes;

public sealed class Utf8TextTests
{
    [Theory]
    [InlineData(new byte[] { 0x61, 0x62 }, 2)]
    [InlineData(new byte[] { 0x61, 0xC3 }, 1)]
    [InlineData(new byte[] { 0x61, 0xC3, 0xA9 }, 3)]
    [InlineData(new byte[] { 0x61, 0xE2, 0x9C }, 1)]
    [InlineData(new byte[] { 0x61, 0xE2, 0x9C, 0x93 }, 4)]
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98 }, 0)]
    [InlineData(new byte[] { 0xFF }, 1)]
    [InlineData(new byte[] { }, 0)]
    public void CompleteLength_CutsOnlyAnUnfinishedLastCharacter(byte[] bytes, int expected) =>
        Assert.Equal(expected, Utf8Text.CompleteLength(bytes));

    [Fact]
    public void Decode_ReplacesInvalidBytesAndKeepsNul() =>
        Assert.Equal("a\uFFFDb\0c", Utf8Text.Decode([0x61, 0xFF, 0x62, 0x00, 0x63]));

    [Fact]
    public void LeadingContinuationBytes_CountsTheTailOfACutCharacter() =>
        Assert.Equal(2, Utf8Text.LeadingContinuationBytes([0x9C, 0x93, 0x61]));
}
