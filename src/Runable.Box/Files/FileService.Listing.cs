using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Win32.SafeHandles;
using Runable.Box.Native;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Files;

namespace Runable.Box.Files;

public sealed partial class FileService
{
    /// <summary>Most entries one listing returns.</summary>
    public const int MaxListEntries = 10_000;

    private const long MaxSearchFileBytes = 10L * 1024 * 1024;
    private const int MaxSearchFiles = 100_000;
    private const int MaxMatchLineChars = 1000;

    /// <summary>Lists a directory, descending <paramref name="depth"/> levels (never through symlinks).</summary>
    public FileListResult List(string? path, int? depth)
    {
        var relative = Normalize(path ?? "");
        var levels = depth ?? 1;
        if (levels is < 1 or > 64)
        {
            throw BoxException.InvalidArgument("depth must be between 1 and 64.");
        }

        var entries = new List<FileEntry>();
        using var directory = Open(relative, FileInterop.ORdOnly | FileInterop.ODirectory);
        var truncated = ListInto(directory, relative, levels, entries);
        return new FileListResult { Entries = entries, Truncated = truncated };
    }

    /// <summary>Searches the text files under a path for a literal or a regular expression.</summary>
    public FileSearchResult Search(FileSearchRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Pattern))
        {
            throw BoxException.InvalidArgument("pattern is required.");
        }

        var maxResults = request.MaxResults ?? 200;
        if (maxResults is < 1 or > 10_000)
        {
            throw BoxException.InvalidArgument("max_results must be between 1 and 10000.");
        }

        Regex? regex = null;
        if (request.Regex == true)
        {
            try
            {
                regex = new Regex(request.Pattern, RegexOptions.CultureInvariant | (request.IgnoreCase == true ? RegexOptions.IgnoreCase : 0),
                    TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw BoxException.InvalidArgument($"pattern is not a valid regular expression: {e.Message}");
            }
        }

        Matcher? glob = null;
        if (!string.IsNullOrEmpty(request.Glob))
        {
            glob = new Matcher(StringComparison.Ordinal).AddInclude(request.Glob);
        }

        var comparison = request.IgnoreCase == true ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var root = Normalize(request.Path ?? "");
        var search = new SearchState(maxResults);
        using (var start = Open(root, FileInterop.OPath))
        {
            var status = Stat(start, root);
            if (status.IsDirectory)
            {
                using var directory = Open(root, FileInterop.ORdOnly | FileInterop.ODirectory);
                SearchDirectory(directory, root, "", search, Matches, glob, cancellationToken);
            }
            else if (status.IsRegular)
            {
                var (parentPath, name) = WorkspacePath.Split(root);
                using var parent = Open(parentPath, FileInterop.OPath | FileInterop.ODirectory);
                SearchFile(parent, name, root, status, search, Matches);
            }
        }

        return new FileSearchResult { Matches = search.Matches, Truncated = search.Truncated, FilesSearched = search.FilesSearched };

        bool Matches(string line)
        {
            try
            {
                return regex?.IsMatch(line) ?? line.Contains(request.Pattern, comparison);
            }
            catch (RegexMatchTimeoutException)
            {
                throw BoxException.InvalidArgument("The regular expression takes too long on this input; simplify it.");
            }
        }
    }

    private static bool ListInto(SafeFileHandle directory, string relative, int levels, List<FileEntry> entries)
    {
        foreach (var name in ListNames(directory))
        {
            if (entries.Count >= MaxListEntries)
            {
                return true;
            }

            if (FileInterop.Statx(directory, name, out var status) != 0)
            {
                continue;
            }

            var childPath = WorkspacePath.Join(relative, name);
            entries.Add(Entry(directory, name, childPath, status));
            if (status.IsDirectory && levels > 1)
            {
                using var child = FileInterop.Openat2(directory, name, FileInterop.ORdOnly | FileInterop.ODirectory | FileInterop.ONoFollow, 0, Beneath, out _);
                if (!child.IsInvalid && ListInto(child, childPath, levels - 1, entries))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static void SearchDirectory(SafeFileHandle directory, string relative, string fromRoot, SearchState search,
        Func<string, bool> matches, Matcher? glob, CancellationToken cancellationToken)
    {
        foreach (var name in ListNames(directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (search.Done)
            {
                return;
            }

            if (FileInterop.Statx(directory, name, out var status) != 0)
            {
                continue;
            }

            var childPath = WorkspacePath.Join(relative, name);
            var childFromRoot = WorkspacePath.Join(fromRoot, name);
            if (status.IsDirectory)
            {
                if (name == ".git")
                {
                    continue;
                }

                using var child = FileInterop.Openat2(directory, name, FileInterop.ORdOnly | FileInterop.ODirectory | FileInterop.ONoFollow, 0, Beneath, out _);
                if (!child.IsInvalid)
                {
                    SearchDirectory(child, childPath, childFromRoot, search, matches, glob, cancellationToken);
                }
            }
            else if (status.IsRegular && (glob is null || glob.Match(childFromRoot).HasMatches))
            {
                SearchFile(directory, name, childPath, status, search, matches);
            }
        }
    }

    private static void SearchFile(SafeFileHandle directory, string name, string relative, FileStatus status, SearchState search, Func<string, bool> matches)
    {
        if (status.Size > MaxSearchFileBytes)
        {
            return;
        }

        if (++search.FilesSearched > MaxSearchFiles)
        {
            search.Truncated = true;
            return;
        }

        using var handle = FileInterop.Openat2(directory, name, FileInterop.ORdOnly | FileInterop.ONoFollow | FileInterop.ONonBlock, 0, Beneath, out _);
        if (handle.IsInvalid)
        {
            return;
        }

        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        var head = new byte[Math.Min(8192, status.Size)];
        var read = stream.Read(head);
        if (head.AsSpan(0, read).Contains((byte)0))
        {
            return;
        }

        stream.Position = 0;
        using var reader = new StreamReader(stream, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (!matches(line))
            {
                continue;
            }

            if (search.Matches.Count >= search.MaxResults)
            {
                search.Truncated = true;
                return;
            }

            search.Matches.Add(new FileSearchMatch
            {
                Path = relative,
                Line = number,
                Text = line.Length > MaxMatchLineChars ? line[..MaxMatchLineChars] + "…" : line,
            });
        }
    }

    private sealed class SearchState(int maxResults)
    {
        public int MaxResults { get; } = maxResults;

        public List<FileSearchMatch> Matches { get; } = [];

        public bool Truncated { get; set; }

        public int FilesSearched { get; set; }

        public bool Done => Truncated;
    }
}
