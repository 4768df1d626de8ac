using Runable.Orchestrator.Agents.Tools;

namespace Runable.Orchestrator.Tests.Agents.Tools;

/// <summary>How long output is cut to its head and tail before the model reads it.</summary>
public sealed class TextCutTests
{
    [Fact]
    public void Cut_TextWithinBothLimits_IsKept()
    {
        Assert.Null(TextCut.Cut("a\nb\nc\n", maxChars: 6, maxLines: 3));
        Assert.Null(TextCut.Cut("", maxChars: 10, maxLines: 10));
    }

    [Fact]
    public void Cut_TooManyLines_KeepsWholeLinesAtBothEnds_AndNamesTheOmittedOnes()
    {
        var text = string.Concat(Enumerable.Range(1, 1000).Select(i => $"{i}\n"));

        var cut = TextCut.Cut(text, maxChars: 100_000, maxLines: 10)!;

        Assert.Equal("1\n2\n3\n4\n5\n", cut.Head);
        Assert.Equal("996\n997\n998\n999\n1000\n", cut.Tail);
        Assert.Equal((6, 995, 1000), (cut.FirstOmittedLine, cut.LastOmittedLine, cut.TotalLines));
        Assert.Equal(text.Length - cut.Head.Length - cut.Tail.Length, cut.OmittedChars);
    }

    [Fact]
    public void Cut_OneHugeLine_IsCutInsideIt_WithoutSplittingACharacter()
    {
        var text = string.Concat(Enumerable.Repeat("😀", 5000)) + "x";

        var cut = TextCut.Cut(text, maxChars: 101, maxLines: 10)!;

        Assert.True(cut.Head.Length <= 50 && cut.Tail.Length <= 51, $"{cut.Head.Length} + {cut.Tail.Length}");
        Assert.False(char.IsHighSurrogate(cut.Head[^1]));
        Assert.False(char.IsLowSurrogate(cut.Tail[0]));
        Assert.EndsWith("😀x", cut.Tail, StringComparison.Ordinal);
        Assert.Equal((1, 1, 1), (cut.FirstOmittedLine, cut.LastOmittedLine, cut.TotalLines));
    }

    [Fact]
    public void Cut_LongLinesOverTheCharacterLimit_KeepsTheWholeLinesThatFitAtEachEnd()
    {
        var text = string.Concat(Enumerable.Range(1, 10).Select(i => new string((char)('a' + i), 30) + "\n"));

        var cut = TextCut.Cut(text, maxChars: 140, maxLines: 400)!;

        Assert.Equal(new string('b', 30) + "\n" + new string('c', 30) + "\n", cut.Head);
        Assert.Equal(new string('j', 30) + "\n" + new string('k', 30) + "\n", cut.Tail);
        Assert.Equal((3, 8, 10), (cut.FirstOmittedLine, cut.LastOmittedLine, cut.TotalLines));
        Assert.Equal(text.Length, cut.Head.Length + cut.OmittedChars + cut.Tail.Length);
    }
}
