using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Server;
using Runable.Box.Files;
using Runable.Box.Protocol.Files;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Server.Mcp;

/// <summary>The file tools as MCP tools; thin adapters over <see cref="FileService"/>.</summary>
[McpServerToolType]
public sealed class FileTools(FileService files)
{
    /// <summary><c>file_read</c>: a range of lines, numbered.</summary>
    [McpServerTool(Name = "file_read", Title = "Read a text file", ReadOnly = true)]
    [Description("Read a text file of the workspace, with line numbers. Give start_line/end_line (1-based, inclusive) to read part of a long file.")]
    public Task<string> ReadAsync(
        [Description("Path relative to the workspace, e.g. 'src/app.py'.")] string path,
        [Description("First line to show (default 1).")] int? start_line = null,
        [Description("Last line to show (default: the end).")] int? end_line = null) =>
        McpToolErrors.Run(() =>
        {
            var text = files.ReadText(path, start_line, end_line);
            var numbered = new StringBuilder();
            var number = text.StartLine;
            foreach (var line in UnifiedDiff.SplitLines(text.Content))
            {
                numbered.Append(number++.ToString(CultureInfo.InvariantCulture).PadLeft(6)).Append('\t').Append(line.TrimEnd('\n')).Append('\n');
            }

            numbered.Append(CultureInfo.InvariantCulture, $"[lines {text.StartLine}-{text.EndLine} of {text.TotalLines}{(text.Truncated ? "; cut at 1 MiB, read on with start_line" : "")}]");
            return numbered.ToString();
        });

    /// <summary><c>file_write</c>: creates or replaces a file.</summary>
    [McpServerTool(Name = "file_write", Title = "Write a file")]
    [Description("Create or overwrite a file of the workspace with the given text; parent directories are created.")]
    public Task<string> WriteAsync(
        [Description("Path relative to the workspace.")] string path,
        [Description("The whole new content of the file.")] string content,
        CancellationToken cancellationToken = default) =>
        McpToolErrors.RunAsync(async () =>
        {
            using var body = new MemoryStream(Encoding.UTF8.GetBytes(content));
            var result = await files.WriteAsync(path, body, cancellationToken);
            return JsonSerializer.Serialize(result, BoxJsonContext.Default.FileWriteResult);
        });

    /// <summary><c>file_edit</c>: str_replace of exactly one occurrence; returns the diff.</summary>
    [McpServerTool(Name = "file_edit", Title = "Edit a file")]
    [Description("Replace exactly one occurrence of old_str in a file with new_str and return the diff. old_str must match the file exactly, " +
        "including whitespace and indentation, and occur exactly once: include enough surrounding lines to make it unique.")]
    public Task<string> EditAsync(
        [Description("Path relative to the workspace.")] string path,
        [Description("The exact text to replace.")] string old_str,
        [Description("The replacement text (empty to delete).")] string new_str,
        CancellationToken cancellationToken = default) =>
        McpToolErrors.RunAsync(async () =>
            (await files.EditAsync(new FileEditRequest { Path = path, OldStr = old_str, NewStr = new_str }, cancellationToken)).Diff);

    /// <summary><c>file_list</c>: a directory listing, one entry per line.</summary>
    [McpServerTool(Name = "file_list", Title = "List a directory", ReadOnly = true)]
    [Description("List the files and directories under a path of the workspace (depth levels deep, default 1).")]
    public Task<string> ListAsync(
        [Description("Directory relative to the workspace (default: the root).")] string? path = null,
        [Description("How many levels to descend (default 1).")] int? depth = null) =>
        McpToolErrors.Run(() =>
        {
            var result = files.List(path, depth);
            var text = new StringBuilder();
            foreach (var entry in result.Entries)
            {
                text.Append(entry.Path).Append(entry.Type switch
                {
                    FileEntryType.Dir => "/",
                    FileEntryType.Symlink => $" -> {entry.Target}",
                    _ => string.Create(CultureInfo.InvariantCulture, $"  ({entry.Size} bytes)"),
                }).Append('\n');
            }

            if (result.Truncated)
            {
                text.Append("[listing cut; list a subdirectory for the rest]\n");
            }

            return text.Length == 0 ? "(empty directory)" : text.ToString();
        });

    /// <summary><c>file_search</c>: matches as <c>path:line: text</c>.</summary>
    [McpServerTool(Name = "file_search", Title = "Search file contents", ReadOnly = true)]
    [Description("Search the text files of the workspace for a literal string (or a regular expression with regex=true); returns path:line: text for each match. Use glob (e.g. '**/*.py') to narrow the files.")]
    public Task<string> SearchAsync(
        [Description("The text or regular expression to find.")] string pattern,
        [Description("Directory to search (default: the workspace root).")] string? path = null,
        [Description("Glob on paths, e.g. '**/*.cs'.")] string? glob = null,
        [Description("Treat pattern as a .NET regular expression.")] bool regex = false,
        [Description("Ignore case.")] bool ignore_case = false,
        CancellationToken cancellationToken = default) =>
        McpToolErrors.Run(() =>
        {
            var result = files.Search(new FileSearchRequest { Pattern = pattern, Path = path, Glob = glob, Regex = regex, IgnoreCase = ignore_case }, cancellationToken);
            var text = new StringBuilder();
            foreach (var match in result.Matches)
            {
                text.Append(CultureInfo.InvariantCulture, $"{match.Path}:{match.Line}: {match.Text}\n");
            }

            if (result.Truncated)
            {
                text.Append("[more matches exist; narrow the search]\n");
            }

            return text.Length == 0 ? $"No matches in {result.FilesSearched} files." : text.ToString();
        });
}
