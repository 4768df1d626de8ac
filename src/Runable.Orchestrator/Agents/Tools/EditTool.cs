using System.Globalization;
using System.Text;
using Runable.Box.Client;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Files;

namespace Runable.Orchestrator.Agents.Tools;

/// <summary>
/// <c>str_replace_based_edit_tool</c>: view, create and edit files of the workspace through the box's file API. Every
/// change keeps the file's previous content, per path, for <c>undo_edit</c>, for as long as the tool set lives (the job).
/// </summary>
internal sealed class EditTool : BoxTool
{
    private const string Schema = """
        {
          "type": "object",
          "properties": {
            "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert", "undo_edit"], "description": "The command to run. Allowed options are: `view`, `create`, `str_replace`, `insert`, `undo_edit`."},
            "path": {"type": "string", "description": "Absolute path to file or directory inside the workspace, e.g. `/workspace/file.py` or `/workspace`; a relative path is taken from the workspace."},
            "file_text": {"type": "string", "description": "Required parameter of `create` command, with the content of the file to be created."},
            "old_str": {"type": "string", "description": "Required parameter of `str_replace` command containing the string in `path` to replace."},
            "new_str": {"type": "string", "description": "Optional parameter of `str_replace` command containing the new string (if not given, no string will be added). Required parameter of `insert` command containing the string to insert."},
            "insert_line": {"type": "integer", "description": "Required parameter of `insert` command. The `new_str` will be inserted AFTER the line `insert_line` of `path` (0 inserts at the top)."},
            "view_range": {"type": "array", "items": {"type": "integer"}, "description": "Optional parameter of `view` command when `path` points to a file. If none is given, the full file is shown. If provided, the file will be shown in the indicated line number range, e.g. [11, 12] will show lines 11 and 12. Indexing at 1 to start. Setting `[start_line, -1]` shows all lines from `start_line` to the end of the file."}
          },
          "required": ["command", "path"]
        }
        """;

    private const int SnippetContext = 4;
    private readonly BoxClient _box;
    private readonly OutputLimiter _limiter;
    private readonly string _workspace;
    private readonly Dictionary<string, Stack<byte[]?>> _history = new(StringComparer.Ordinal);
    private readonly Lock _historyLock = new();

    public EditTool(BoxClient box, OutputLimiter limiter, string workspace, TimeProvider time)
        : base("str_replace_based_edit_tool", Describe(workspace), Schema, time)
    {
        _box = box;
        _limiter = limiter;
        _workspace = workspace.TrimEnd('/');
    }

    protected override async Task<ToolResult> ExecuteAsync(ToolArguments arguments, CancellationToken cancellationToken)
    {
        var command = arguments.RequiredString("command", "one of view, create, str_replace, insert, undo_edit");
        var path = arguments.RequiredString("path", $"the file or directory, e.g. {_workspace}/main.py");
        if (path.Trim().Length == 0)
        {
            throw new ToolArgumentException($"path must not be empty; give a file or directory, e.g. {_workspace}/main.py.");
        }

        return command switch
        {
            "view" => await ViewAsync(path, arguments.Ints("view_range", 2, "[start_line, end_line]"), cancellationToken).ConfigureAwait(false),
            "create" => await CreateAsync(path, arguments.String("file_text")
                ?? throw new ToolArgumentException("file_text is required for create: the whole content of the file."), cancellationToken).ConfigureAwait(false),
            "str_replace" => await ReplaceAsync(path, arguments.String("old_str"), arguments.String("new_str") ?? "", cancellationToken).ConfigureAwait(false),
            "insert" => await InsertAsync(path,
                arguments.Int("insert_line") ?? throw new ToolArgumentException("insert_line is required for insert: the line after which new_str goes (0 for the top)."),
                arguments.String("new_str") ?? throw new ToolArgumentException("new_str is required for insert: the text to insert."), cancellationToken).ConfigureAwait(false),
            "undo_edit" => await UndoAsync(path, cancellationToken).ConfigureAwait(false),
            _ => throw new ToolArgumentException($"Unknown command '{command}'. Allowed options are: view, create, str_replace, insert, undo_edit."),
        };
    }

    private static string Describe(string workspace) =>
        $"""
        Custom editing tool for viewing, creating and editing files in the workspace, {workspace}.
        * Paths are absolute inside the workspace (e.g. {workspace}/src/app.py) or relative to it; files outside it cannot be edited with this tool (use bash).
        * If `path` is a file, `view` displays the result of applying `cat -n`. If `path` is a directory, `view` lists non-hidden files and directories up to 2 levels deep.
        * The `create` command creates a file with `file_text` (parent directories are made); it overwrites an existing file.
        * If a command generates a long output, it will be truncated; view long files in parts with `view_range`.
        * The `undo_edit` command will revert the last edit made to the file at `path` (create, str_replace or insert).

        Notes for using the `str_replace` command:
        * The `old_str` parameter should match EXACTLY one or more consecutive lines from the original file. Be mindful of whitespaces!
        * If the `old_str` parameter is not unique in the file, the replacement will not be performed. Make sure to include enough context in `old_str` to make it unique.
        * The `new_str` parameter should contain the edited lines that should replace the `old_str`.
        """;

    private async Task<ToolResult> ViewAsync(string path, int[]? range, CancellationToken cancellationToken)
    {
        var (start, end) = (range?[0] ?? 1, range?[1] ?? -1);
        if (start < 1 || (end != -1 && end < start))
        {
            throw new ToolArgumentException("view_range must be [start_line, end_line] with 1 <= start_line <= end_line, or [start_line, -1] for the rest of the file.");
        }

        TextFileResult file;
        try
        {
            file = await _box.ReadTextAsync(path, start, end == -1 ? null : end, cancellationToken).ConfigureAwait(false);
        }
        catch (BoxException e) when (e.Code == BoxErrorCodes.IsADirectory)
        {
            if (range is not null)
            {
                throw new ToolArgumentException($"{path} is a directory; view_range applies to files only.");
            }

            return await ListAsync(path, cancellationToken).ConfigureAwait(false);
        }

        if (file.TotalLines == 0)
        {
            return new ToolResult { Text = $"The file {Absolute(file.Path)} is empty." };
        }

        if (start > file.TotalLines)
        {
            throw new ToolArgumentException($"view_range starts at line {start}, but {Absolute(file.Path)} has {file.TotalLines} lines.");
        }

        var numbered = Numbered(SplitLines(file.Content), file.StartLine);
        var limited = _limiter.Limit(numbered, cut =>
        {
            var first = file.StartLine + cut.FirstOmittedLine - 1;
            var last = file.StartLine + cut.LastOmittedLine - 1;
            return $"[... lines {first}-{last} not shown; view them with view_range [{first}, {Math.Min(last, first + 199)}] ...]";
        });
        var header = $"Here's the result of running `cat -n` on {Absolute(file.Path)}"
            + (file.StartLine > 1 || file.EndLine < file.TotalLines ? $" (lines {file.StartLine}-{file.EndLine} of {file.TotalLines})" : "") + ":\n";
        return new ToolResult { Text = header + limited.Text, Truncated = limited.Truncated || file.Truncated };
    }

    private async Task<ToolResult> ListAsync(string path, CancellationToken cancellationToken)
    {
        var listing = await _box.ListFilesAsync(path, depth: 2, cancellationToken).ConfigureAwait(false);
        var root = Absolute(NormalizeRelative(path));
        var text = new StringBuilder($"Here are the files and directories up to 2 levels deep in {root}, excluding hidden items:\n{root}\n");
        foreach (var entry in listing.Entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            if (entry.Path.Split('/').Any(part => part.StartsWith('.')))
            {
                continue;
            }

            text.Append(Absolute(entry.Path)).Append(entry.Type == FileEntryType.Dir ? "/" : "").Append('\n');
        }

        if (listing.Truncated)
        {
            text.Append("[the listing stopped at its entry limit; view a subdirectory, or use find in bash]\n");
        }

        var limited = _limiter.Limit(text.ToString(), _ => "[... more entries not shown; view a subdirectory ...]");
        return new ToolResult { Text = limited.Text, Truncated = limited.Truncated || listing.Truncated };
    }

    private async Task<ToolResult> CreateAsync(string path, string fileText, CancellationToken cancellationToken)
    {
        var previous = await TryReadAsync(path, cancellationToken).ConfigureAwait(false);
        var written = await _box.WriteFileAsync(path, Encoding.UTF8.GetBytes(fileText), cancellationToken).ConfigureAwait(false);
        Remember(written.Path, previous);
        return new ToolResult
        {
            Text = previous is null
                ? $"File created successfully at: {Absolute(written.Path)}"
                : $"File overwritten: {Absolute(written.Path)} (undo_edit brings back its previous content).",
        };
    }

    private async Task<ToolResult> ReplaceAsync(string path, string? oldStr, string newStr, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(oldStr))
        {
            throw new ToolArgumentException("old_str is required for str_replace and must not be empty: the exact text to replace, copied from the file.");
        }

        var before = await _box.ReadFileAsync(path, cancellationToken).ConfigureAwait(false);
        var text = Encoding.UTF8.GetString(before);
        var lines = MatchLines(text, oldStr);
        if (lines.Count == 0)
        {
            throw new ToolArgumentException($"No replacement was performed, old_str did not appear verbatim in {Absolute(NormalizeRelative(path))}. Check whitespace, indentation and line endings; view the file and copy the exact text.");
        }

        if (lines.Count > 1)
        {
            throw new ToolArgumentException($"No replacement was performed. Multiple occurrences of old_str in lines {string.Join(", ", lines)} of {Absolute(NormalizeRelative(path))}. Include more surrounding lines in old_str so that it occurs exactly once.");
        }

        // The box checks the match again and writes atomically, so a change made meanwhile is not overwritten blindly.
        var edited = await _box.EditFileAsync(path, oldStr, newStr, cancellationToken).ConfigureAwait(false);
        Remember(edited.Path, before);
        var index = text.IndexOf(oldStr, StringComparison.Ordinal);
        var after = string.Concat(text.AsSpan(0, index), newStr, text.AsSpan(index + oldStr.Length));
        var firstLine = lines[0];
        var lastLine = firstLine + newStr.AsSpan().Count('\n');
        return new ToolResult { Text = $"The file {Absolute(edited.Path)} has been edited. {Snippet(after, firstLine, lastLine)}Review the changes and make sure they are as expected. Edit the file again if necessary." };
    }

    private async Task<ToolResult> InsertAsync(string path, int insertLine, string newStr, CancellationToken cancellationToken)
    {
        var before = await _box.ReadFileAsync(path, cancellationToken).ConfigureAwait(false);
        var text = Encoding.UTF8.GetString(before);
        var lineCount = TextCut.CountLines(text);
        if (insertLine < 0 || insertLine > lineCount)
        {
            throw new ToolArgumentException($"insert_line {insertLine} is out of range: {Absolute(NormalizeRelative(path))} has {lineCount} lines, so insert_line must be between 0 and {lineCount}.");
        }

        var offset = 0;
        for (var line = 0; line < insertLine; line++)
        {
            var next = text.IndexOf('\n', offset);
            offset = next < 0 ? text.Length : next + 1;
        }

        var insertion = new StringBuilder();
        if (offset == text.Length && offset > 0 && text[^1] != '\n')
        {
            insertion.Append('\n');
        }

        insertion.Append(newStr);
        if (newStr.Length == 0 || newStr[^1] != '\n')
        {
            insertion.Append('\n');
        }

        var after = string.Concat(text.AsSpan(0, offset), insertion.ToString(), text.AsSpan(offset));
        var written = await _box.WriteFileAsync(path, Encoding.UTF8.GetBytes(after), cancellationToken).ConfigureAwait(false);
        Remember(written.Path, before);
        var inserted = TextCut.CountLines(newStr.Length == 0 ? "\n" : newStr);
        return new ToolResult { Text = $"The file {Absolute(written.Path)} has been edited. {Snippet(after, insertLine + 1, insertLine + inserted)}Review the changes and make sure they are as expected (correct indentation, no duplicate lines). Edit the file again if necessary." };
    }

    private async Task<ToolResult> UndoAsync(string path, CancellationToken cancellationToken)
    {
        var key = NormalizeRelative(path);
        byte[]? previous;
        lock (_historyLock)
        {
            if (!_history.TryGetValue(key, out var stack) || stack.Count == 0)
            {
                throw new ToolArgumentException($"No edit history found for {Absolute(key)}: there is nothing to undo.");
            }

            previous = stack.Pop();
        }

        if (previous is null)
        {
            await _box.DeleteAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new ToolResult { Text = $"Last edit to {Absolute(key)} undone: the file did not exist before, so it was deleted." };
        }

        await _box.WriteFileAsync(path, previous, cancellationToken).ConfigureAwait(false);
        var lines = SplitLines(Encoding.UTF8.GetString(previous));
        var limited = _limiter.Limit(Numbered(lines, 1), cut => $"[... lines {cut.FirstOmittedLine}-{cut.LastOmittedLine} not shown; view them with view_range ...]");
        return new ToolResult { Text = $"Last edit to {Absolute(key)} undone successfully. Here's the result of running `cat -n` on it:\n{limited.Text}", Truncated = limited.Truncated };
    }

    private async Task<byte[]?> TryReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await _box.ReadFileAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (BoxException e) when (e.Code == BoxErrorCodes.FileNotFound)
        {
            return null;
        }
    }

    private void Remember(string relative, byte[]? previous)
    {
        lock (_historyLock)
        {
            if (!_history.TryGetValue(relative, out var stack))
            {
                _history[relative] = stack = new Stack<byte[]?>();
            }

            stack.Push(previous);
        }
    }

    /// <summary>The workspace-relative form the box reports paths in, so history keys match whatever form the model used.</summary>
    private string NormalizeRelative(string path)
    {
        var absolute = Path.GetFullPath(path.StartsWith('/') ? path : $"{_workspace}/{path}");
        return absolute == _workspace ? "" : absolute.StartsWith(_workspace + "/", StringComparison.Ordinal) ? absolute[(_workspace.Length + 1)..] : absolute;
    }

    private string Absolute(string relative) =>
        relative.StartsWith('/') ? relative : relative.Length == 0 ? _workspace : $"{_workspace}/{relative}";

    private static List<int> MatchLines(string text, string value)
    {
        var lines = new List<int>();
        var line = 1;
        var counted = 0;
        for (var index = text.IndexOf(value, StringComparison.Ordinal); index >= 0; index = text.IndexOf(value, index + 1, StringComparison.Ordinal))
        {
            line += text.AsSpan(counted, index - counted).Count('\n');
            counted = index;
            lines.Add(line);
        }

        return lines;
    }

    private static string Snippet(string text, int firstLine, int lastLine)
    {
        var lines = SplitLines(text);
        var from = Math.Max(1, firstLine - SnippetContext);
        var to = Math.Min(lines.Count, lastLine + SnippetContext);
        return to < from
            ? "The file is now empty. "
            : $"Here's the result of running `cat -n` on a snippet of it:\n{Numbered(lines.GetRange(from - 1, to - from + 1), from)}";
    }

    private static List<string> SplitLines(string text)
    {
        var lines = text.Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    private static string Numbered(IEnumerable<string> lines, int firstLine)
    {
        var text = new StringBuilder();
        var number = firstLine;
        foreach (var line in lines)
        {
            text.Append(number++.ToString(CultureInfo.InvariantCulture).PadLeft(6)).Append('\t').Append(line.TrimEnd('\r')).Append('\n');
        }

        return text.ToString();
    }
}
