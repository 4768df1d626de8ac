using Runable.Web.Components.Sandbox;

namespace Runable.Web.Tests.Components;

/// <summary>git's unified diff read into files, hunks and numbered lines, and paired for side by side.</summary>
public sealed class UnifiedDiffTests
{
    private const string Patch = """
        diff --git a/calc.py b/calc.py
        index 1111111..2222222 100644
        --- a/calc.py
        +++ b/calc.py
        @@ -1,4 +1,4 @@
         def add(a, b):
        -    return a - b
        +    return a + b
         
         # end
        diff --git a/notes/new.txt b/notes/new.txt
        new file mode 100644
        index 0000000..3333333
        --- /dev/null
        +++ b/notes/new.txt
        @@ -0,0 +1,2 @@
        +first
        +second
        \ No newline at end of file
        diff --git a/logo.png b/logo.png
        deleted file mode 100644
        index 4444444..0000000
        Binary files a/logo.png and /dev/null differ

        """;

    [Fact]
    public void Parse_ReadsFilesHunksAndLineNumbers()
    {
        var files = UnifiedDiff.Parse(Patch);
        Assert.Equal(["calc.py", "notes/new.txt", "logo.png"], files.Select(f => f.NewPath));

        var calc = files[0];
        Assert.Equal((1, 1), (calc.Added, calc.Removed));
        var lines = Assert.Single(calc.Hunks).Lines;
        Assert.Equal(
            [(DiffLineKind.Context, "def add(a, b):", 1, 1), (DiffLineKind.Removed, "    return a - b", 2, (int?)null), (DiffLineKind.Added, "    return a + b", (int?)null, 2),
             (DiffLineKind.Context, "", 3, 3), (DiffLineKind.Context, "# end", 4, 4)],
            lines.Select(l => (l.Kind, l.Text, l.OldNumber, l.NewNumber)));

        Assert.True(files[1].IsNew);
        Assert.Equal(2, files[1].Added);
        Assert.Equal(DiffLineKind.Note, files[1].Hunks[0].Lines[^1].Kind);
        Assert.True(files[2].IsDeleted);
        Assert.True(files[2].IsBinary);
    }

    [Fact]
    public void SideBySide_PairsRemovedLinesWithTheirReplacements()
    {
        var hunk = UnifiedDiff.Parse("""
            diff --git a/f b/f
            --- a/f
            +++ b/f
            @@ -1,4 +1,3 @@
             keep
            -old one
            -old two
            +new one
             tail
            +added at the end
            """)[0].Hunks[0];
        var rows = UnifiedDiff.SideBySide(hunk).Select(r => (r.Left?.Text, r.Right?.Text)).ToList();
        Assert.Equal([("keep", "keep"), ("old one", "new one"), ("old two", null), ("tail", "tail"), (null, "added at the end")], rows);
    }
}
