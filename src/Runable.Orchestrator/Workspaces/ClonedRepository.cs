using System.Formats.Tar;
using System.IO.Compression;

namespace Runable.Orchestrator.Workspaces;

/// <summary>
/// A clone in a temporary directory of the orchestrator host, without a checked-out tree: only its <c>.git</c>
/// directory travels into the sandbox, where git checks the files out itself (so the repository's symlinks, modes
/// and line endings come out exactly as git makes them). Disposing deletes the directory.
/// </summary>
public sealed class ClonedRepository : IDisposable
{
    private readonly string _root;

    internal ClonedRepository(string root, string commit)
    {
        _root = root;
        Commit = commit;
    }

    /// <summary>The repository's work tree directory (which holds only <c>.git</c>).</summary>
    public string Directory => WorkTree(_root);

    /// <summary>The commit that was fetched (the repository's HEAD).</summary>
    public string Commit { get; }

    /// <summary>Writes the <c>.git</c> directory as a tar.gz whose entries start with <c>.git/</c> (directories and regular files only).</summary>
    public async Task WriteGitArchiveAsync(Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
        await WriteTreeAsync(tar, new DirectoryInfo(Path.Combine(Directory, ".git")), ".git", cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }

    /// <summary>Where the clone in <paramref name="root"/> goes.</summary>
    internal static string WorkTree(string root) => Path.Combine(root, "repo");

    /// <summary>The bytes of the files under <c>.git</c>.</summary>
    internal long GitSize() =>
        new DirectoryInfo(Path.Combine(Directory, ".git")).EnumerateFiles("*", SearchOption.AllDirectories).Where(f => f.LinkTarget is null).Sum(f => f.Length);

    private static async Task WriteTreeAsync(TarWriter tar, DirectoryInfo directory, string name, CancellationToken cancellationToken)
    {
        await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, name + "/") { Mode = directory.UnixFileMode }, cancellationToken).ConfigureAwait(false);
        foreach (var child in directory.EnumerateFileSystemInfos().OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            if (child.LinkTarget is not null)
            {
                // git writes no symlinks under .git from what it fetches; anything else stays behind.
                continue;
            }

            var childName = $"{name}/{child.Name}";
            if (child is DirectoryInfo subdirectory)
            {
                await WriteTreeAsync(tar, subdirectory, childName, cancellationToken).ConfigureAwait(false);
            }
            else if (child is FileInfo file)
            {
                await using var data = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, childName)
                {
                    Mode = file.UnixFileMode,
                    ModificationTime = file.LastWriteTimeUtc,
                    DataStream = data,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
