using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace Runable.Cli.Remote;

/// <summary>
/// A local folder packed as the <c>tar.gz</c> that <c>POST /v1/uploads</c> takes. A folder at the top of a git
/// repository travels with its <c>.git</c> and without the files git ignores (build output, <c>node_modules</c>):
/// the job's diff is taken against the repository as it is, uncommitted changes included. Any other folder travels
/// whole.
/// </summary>
public sealed class WorkspaceArchive : IDisposable
{
    private WorkspaceArchive(string path, int files, long contentBytes, bool gitAware)
    {
        Path = path;
        Files = files;
        ContentBytes = contentBytes;
        GitAware = gitAware;
    }

    /// <summary>The archive, a temporary file deleted with this object.</summary>
    public string Path { get; }

    /// <summary>The workspace's files packed (those under <c>.git</c> not counted).</summary>
    public int Files { get; }

    /// <summary>Their size before compression.</summary>
    public long ContentBytes { get; }

    /// <summary>The archive's size.</summary>
    public long Bytes => new FileInfo(Path).Length;

    /// <summary>Whether the folder was a git repository's top, packed as git sees it.</summary>
    public bool GitAware { get; }

    /// <summary>Packs <paramref name="directory"/>; throws <see cref="DirectoryNotFoundException"/> when it does not exist.</summary>
    public static async Task<WorkspaceArchive> CreateAsync(string directory, CancellationToken cancellationToken = default)
    {
        var root = System.IO.Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The workspace folder '{directory}' does not exist.");
        }

        var entries = await GitFilesAsync(root, cancellationToken).ConfigureAwait(false);
        var gitAware = entries is not null;
        entries ??= Walk(root, "").ToList();

        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"runable-workspace-{Guid.NewGuid():N}.tar.gz");
        var files = 0;
        long bytes = 0;
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
            await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false))
            {
                foreach (var entry in entries)
                {
                    var full = System.IO.Path.Combine(root, entry);
                    var info = new FileInfo(full);
                    if (!info.Exists && !Directory.Exists(full))
                    {
                        continue; // listed by git but deleted in the work tree
                    }

                    await tar.WriteEntryAsync(full, entry, cancellationToken).ConfigureAwait(false);
                    if (info.Exists && info.LinkTarget is null && !entry.StartsWith(".git/", StringComparison.Ordinal))
                    {
                        files++;
                        bytes += info.Length;
                    }
                }
            }

            return new WorkspaceArchive(path, files, bytes, gitAware);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    public void Dispose() => File.Delete(Path);

    /// <summary>
    /// The entries of a folder that is the top of a git repository: the files git tracks or would add, then the whole
    /// <c>.git</c>; null when the folder is not such a top, or git is not installed.
    /// </summary>
    private static async Task<List<string>?> GitFilesAsync(string root, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(System.IO.Path.Combine(root, ".git")))
        {
            return null;
        }

        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            ArgumentList = { "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard" },
        };
        Process? git;
        try
        {
            git = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }

        if (git is null)
        {
            return null;
        }

        using (git)
        {
            var listing = git.StandardOutput.ReadToEndAsync(cancellationToken);
            _ = git.StandardError.ReadToEndAsync(cancellationToken);
            await git.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (git.ExitCode != 0)
            {
                return null;
            }

            var files = (await listing.ConfigureAwait(false)).Split('\0', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
            files.AddRange(Walk(root, ".git"));
            return files;
        }
    }

    /// <summary>Every entry under <paramref name="relative"/> of <paramref name="root"/>, directories before their contents; symbolic links are not followed.</summary>
    private static IEnumerable<string> Walk(string root, string relative)
    {
        var directory = new DirectoryInfo(System.IO.Path.Combine(root, relative));
        if (relative.Length > 0)
        {
            yield return relative;
        }

        foreach (var entry in directory.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var name = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            if (entry is DirectoryInfo && entry.LinkTarget is null)
            {
                foreach (var inner in Walk(root, name))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return name;
            }
        }
    }
}
