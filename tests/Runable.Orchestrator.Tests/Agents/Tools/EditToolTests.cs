using System.Text;

namespace Runable.Orchestrator.Tests.Agents.Tools;

/// <summary>The <c>str_replace_based_edit_tool</c> in a real sandbox, checked against the files the box holds.</summary>
public sealed class EditToolTests(ToolSandboxFixture sandbox) : IClassFixture<ToolSandboxFixture>
{
    private const string Tool = "str_replace_based_edit_tool";

    [Fact]
    public async Task CreateAndView_ShowNumberedLines_RangesAndDirectories()
    {
        var created = await sandbox.CallAsync(Tool, """{"command": "create", "path": "/workspace/view/app.py", "file_text": "import os\n\ndef main():\n    print(os.getcwd())\n"}""");
        Assert.Equal("File created successfully at: /workspace/view/app.py", created.Text);
        Assert.Equal("import os\n\ndef main():\n    print(os.getcwd())\n", await ReadAsync("view/app.py"));

        var whole = await sandbox.CallAsync(Tool, """{"command": "view", "path": "view/app.py"}""");
        Assert.Equal("Here's the result of running `cat -n` on /workspace/view/app.py:\n     1\timport os\n     2\t\n     3\tdef main():\n     4\t    print(os.getcwd())\n", whole.Text);

        var range = await sandbox.CallAsync(Tool, new Dictionary<string, object?> { ["command"] = "view", ["path"] = "/workspace/view/app.py", ["view_range"] = new[] { 3, -1 } });
        Assert.Equal("Here's the result of running `cat -n` on /workspace/view/app.py (lines 3-4 of 4):\n     3\tdef main():\n     4\t    print(os.getcwd())\n", range.Text);

        var beyond = await sandbox.CallAsync(Tool, """{"command": "view", "path": "/workspace/view/app.py", "view_range": [9, 12]}""");
        Assert.Equal("Error: view_range starts at line 9, but /workspace/view/app.py has 4 lines.", beyond.Text);

        await sandbox.CallAsync(Tool, """{"command": "create", "path": "/workspace/view/pkg/.hidden", "file_text": "x"}""");
        await sandbox.CallAsync(Tool, """{"command": "create", "path": "/workspace/view/pkg/deep/deeper.txt", "file_text": "x"}""");
        var listing = await sandbox.CallAsync(Tool, """{"command": "view", "path": "/workspace/view"}""");
        Assert.Equal("Here are the files and directories up to 2 levels deep in /workspace/view, excluding hidden items:\n/workspace/view\n"
            + "/workspace/view/app.py\n/workspace/view/pkg/\n/workspace/view/pkg/deep/\n", listing.Text);

        var outside = await sandbox.CallAsync(Tool, """{"command": "view", "path": "/etc/passwd"}""");
        Assert.StartsWith("Error: path_outside_workspace:", outside.Text, StringComparison.Ordinal);
        Assert.True(outside.Result.IsError);
    }

    [Fact]
    public async Task StrReplace_NeedsExactlyOneMatch_AndSaysWhereTheMatchesAre()
    {
        await sandbox.CallAsync(Tool, """{"command": "create", "path": "/workspace/replace.txt", "file_text": "alpha\nbeta\nalpha\ngamma\n"}""");

        var ambiguous = await sandbox.CallAsync(Tool, """{"command": "str_replace", "path": "/workspace/replace.txt", "old_str": "alpha", "new_str": "delta"}""");
        Assert.Equal("Error: No replacement was performed. Multiple occurrences of old_str in lines 1, 3 of /workspace/replace.txt. "
            + "Include more surrounding lines in old_str so that it occurs exactly once.", ambiguous.Text);
        var none = await sandbox.CallAsync(Tool, """{"command": "str_replace", "path": "/workspace/replace.txt", "old_str": "omega", "new_str": "delta"}""");
        Assert.StartsWith("Error: No replacement was performed, old_str did not appear verbatim in /workspace/replace.txt.", none.Text, StringComparison.Ordinal);
        Assert.Equal("alpha\nbeta\nalpha\ngamma\n", await ReadAsync("replace.txt"));

        var edited = await sandbox.CallAsync(Tool, """{"command": "str_replace", "path": "replace.txt", "old_str": "alpha\ngamma", "new_str": "alpha\nGAMMA\nomega"}""");
        Assert.Equal("alpha\nbeta\nalpha\nGAMMA\nomega\n", await ReadAsync("replace.txt"));
        Assert.StartsWith("The file /workspace/replace.txt has been edited. Here's the result of running `cat -n` on a snippet of it:\n     1\talpha\n", edited.Text, StringComparison.Ordinal);
        Assert.Contains("     4\tGAMMA\n     5\tomega\n", edited.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InsertAndUndo_RestoreEachPreviousContent_AndUndoOfCreateDeletes()
    {
        await sandbox.CallAsync(Tool, """{"command": "create", "path": "/workspace/undo.txt", "file_text": "one\ntwo"}""");
        var inserted = await sandbox.CallAsync(Tool, """{"command": "insert", "path": "/workspace/undo.txt", "insert_line": 1, "new_str": "one and a half"}""");
        Assert.Contains("     2\tone and a half\n", inserted.Text, StringComparison.Ordinal);
        Assert.Equal("one\none and a half\ntwo", await ReadAsync("undo.txt"));
        await sandbox.CallAsync(Tool, """{"command": "insert", "path": "/workspace/undo.txt", "insert_line": 0, "new_str": "zero\n"}""");
        await sandbox.CallAsync(Tool, """{"command": "insert", "path": "/workspace/undo.txt", "insert_line": 4, "new_str": "three"}""");
        Assert.Equal("zero\none\none and a half\ntwo\nthree\n", await ReadAsync("undo.txt"));
        var outOfRange = await sandbox.CallAsync(Tool, """{"command": "insert", "path": "/workspace/undo.txt", "insert_line": 9, "new_str": "x"}""");
        Assert.Equal("Error: insert_line 9 is out of range: /workspace/undo.txt has 5 lines, so insert_line must be between 0 and 5.", outOfRange.Text);

        await sandbox.CallAsync(Tool, """{"command": "undo_edit", "path": "/workspace/undo.txt"}""");
        Assert.Equal("zero\none\none and a half\ntwo", await ReadAsync("undo.txt"));
        await sandbox.CallAsync(Tool, """{"command": "undo_edit", "path": "undo.txt"}""");
        var undone = await sandbox.CallAsync(Tool, """{"command": "undo_edit", "path": "/workspace/./undo.txt"}""");
        Assert.Equal("Last edit to /workspace/undo.txt undone successfully. Here's the result of running `cat -n` on it:\n     1\tone\n     2\ttwo\n", undone.Text);
        Assert.Equal("one\ntwo", await ReadAsync("undo.txt"));

        var deleted = await sandbox.CallAsync(Tool, """{"command": "undo_edit", "path": "/workspace/undo.txt"}""");
        Assert.Equal("Last edit to /workspace/undo.txt undone: the file did not exist before, so it was deleted.", deleted.Text);
        Assert.Equal("gone\n", await sandbox.ShellAsync("test -e /workspace/undo.txt || echo gone"));
        var nothing = await sandbox.CallAsync(Tool, """{"command": "undo_edit", "path": "/workspace/undo.txt"}""");
        Assert.Equal("Error: No edit history found for /workspace/undo.txt: there is nothing to undo.", nothing.Text);

        var unknown = await sandbox.CallAsync(Tool, """{"command": "delete", "path": "/workspace/undo.txt"}""");
        Assert.Equal("Error: Unknown command 'delete'. Allowed options are: view, create, str_replace, insert, undo_edit.", unknown.Text);
    }

    private async Task<string> ReadAsync(string path) =>
        Encoding.UTF8.GetString(await sandbox.Box.ReadFileAsync(path, TestContext.Current.CancellationToken));
}
