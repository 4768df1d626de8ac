using System.Formats.Tar;
using System.IO.Compression;
using Microsoft.Win32.SafeHandles;
using Runable.Box.Native;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Files;

namespace Runable.Box.Files;

public sealed partial class FileService
{
    /// <summary>Writes a directory as a gzip-compressed tar to <paramref name="output"/>; symlinks are stored as links, never followed.</summary>
    public async Task WriteArchiveAsync(string? path, Stream output, CancellationToken cancellationToken = default)
    {
        var relative = Normalize(path ?? "");
        using var directory = Open(relative, FileInterop.ORdOnly | FileInterop.ODirectory);
        await using var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
        await WriteTreeAsync(tar, directory, relative, "", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Unpacks a gzip-compressed tar into a directory. Every entry is checked before anything is written: names
    /// that leave the directory, absolute names, hard links, devices and FIFOs, symlinks pointing outside the
    /// workspace and entries that would be written through such a symlink refuse the whole archive.
    /// </summary>
    public async Task<ArchiveExtractResult> ExtractArchiveAsync(string? path, Func<Stream> openArchive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(openArchive);
        var destination = Normalize(path ?? "");
        if (!new LinkWalker(LinkOnDisk).StaysInside(destination))
        {
            throw WorkspacePath.Outside(path ?? "");
        }

        var plan = new List<PlannedEntry>();
        await ReadEntriesAsync(openArchive, entry =>
        {
            plan.Add(Validate(entry, destination));
            return Task.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);
        CheckLinks(plan);

        var index = 0;
        EnsureDirectory(destination).Dispose();
        await ReadEntriesAsync(openArchive, async entry =>
        {
            var planned = plan[index++];
            switch (planned.Type)
            {
                case TarEntryType.Directory:
                    EnsureDirectory(planned.Relative).Dispose();
                    break;
                case TarEntryType.SymbolicLink:
                    var (parentPath, name) = WorkspacePath.Split(planned.Relative);
                    using (var parent = EnsureDirectory(parentPath))
                    {
                        if (FileInterop.Statx(parent, name, out var existing) == 0 && !existing.IsDirectory)
                        {
                            FileInterop.Unlinkat(parent, name, 0);
                        }

                        Check(FileInterop.Symlinkat(planned.LinkTarget!, parent, name), planned.Relative);
                    }

                    break;
                default:
                    await WriteFileAsync(planned.Relative, entry.DataStream ?? Stream.Null, planned.Mode, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }, cancellationToken).ConfigureAwait(false);

        return new ArchiveExtractResult { Path = destination, Entries = plan.Count };
    }

    private static async Task ReadEntriesAsync(Func<Stream> openArchive, Func<TarEntry, Task> onEntry, CancellationToken cancellationToken)
    {
        await using var archive = openArchive();
        await using var gzip = new GZipStream(archive, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        try
        {
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
                {
                    continue;
                }

                await onEntry(entry).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.InvalidArchive, $"The body is not a valid tar.gz archive: {e.Message}", e);
        }
    }

    private static PlannedEntry Validate(TarEntry entry, string destination)
    {
        var name = entry.Name;
        if (name.StartsWith('/') || name.Contains('\0', StringComparison.Ordinal))
        {
            throw Refused(name, "absolute names are not allowed");
        }

        string inside;
        try
        {
            inside = WorkspacePath.Normalize("/", "/" + name).TrimStart('/');
        }
        catch (BoxException e) when (e.Kind == BoxErrorKind.Forbidden)
        {
            throw Refused(name, "it leaves the target directory");
        }

        if (inside.Length == 0 && entry.EntryType != TarEntryType.Directory)
        {
            throw Refused(name, "it has no name");
        }

        var relative = WorkspacePath.Join(destination, inside);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
            case TarEntryType.RegularFile:
            case TarEntryType.V7RegularFile:
            case TarEntryType.ContiguousFile:
                var type = entry.EntryType == TarEntryType.Directory ? TarEntryType.Directory : TarEntryType.RegularFile;
                return new PlannedEntry(name, relative, type, null, (int)entry.Mode & 0x1FF);
            case TarEntryType.SymbolicLink:
                var target = entry.LinkName;
                if (string.IsNullOrEmpty(target) || target.StartsWith('/') || target.Contains('\0', StringComparison.Ordinal))
                {
                    throw Refused(name, $"its link target '{target}' is absolute or empty (only relative links that stay inside the workspace are accepted)");
                }

                return new PlannedEntry(name, relative, TarEntryType.SymbolicLink, target, 0);
            default:
                throw Refused(name, $"entries of type {entry.EntryType} (hard links, devices, FIFOs) are not accepted");
        }
    }

    /// <summary>
    /// Walks every entry through the symlinks the archive creates and those already in the workspace, so a chain of
    /// links that each look harmless (<c>d/x -&gt; ..</c>, then <c>e -&gt; d/x/../..</c>) is refused before anything is written.
    /// </summary>
    private void CheckLinks(List<PlannedEntry> plan)
    {
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        var others = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in plan)
        {
            var twice = entry.Type == TarEntryType.SymbolicLink
                ? others.Contains(entry.Relative) || (links.TryGetValue(entry.Relative, out var earlier) && earlier != entry.LinkTarget)
                : links.ContainsKey(entry.Relative);
            if (twice)
            {
                // Which meaning holds would depend on the order of extraction; refuse rather than guess.
                throw Refused(entry.Name, "the archive gives this path twice, once as a symlink");
            }

            if (entry.Type == TarEntryType.SymbolicLink)
            {
                links[entry.Relative] = entry.LinkTarget!;
            }
            else
            {
                others.Add(entry.Relative);
            }
        }

        var onDisk = new Dictionary<string, LinkWalker.Link>(StringComparer.Ordinal);
        var walker = new LinkWalker(relative =>
            links.TryGetValue(relative, out var target) ? LinkWalker.Link.To(target)
            : onDisk.TryGetValue(relative, out var known) ? known
            : onDisk[relative] = LinkOnDisk(relative));
        foreach (var entry in plan)
        {
            if (entry.Type == TarEntryType.SymbolicLink)
            {
                var (parent, _) = WorkspacePath.Split(entry.Relative);
                if (!walker.StaysInside(WorkspacePath.Join(parent, entry.LinkTarget!)))
                {
                    throw Refused(entry.Name, $"its link target '{entry.LinkTarget}' points outside the workspace");
                }
            }
            else if (!walker.StaysInside(entry.Relative))
            {
                throw Refused(entry.Name, "it would be written through a symlink that leads outside the workspace");
            }
        }
    }

    /// <summary>The symlink at <paramref name="relative"/> (whose parents are real directories) as it is on disk now.</summary>
    private LinkWalker.Link LinkOnDisk(string relative)
    {
        var (parentPath, name) = WorkspacePath.Split(relative);
        using var parent = FileInterop.Openat2(_root, parentPath.Length == 0 ? "." : parentPath,
            FileInterop.OPath | FileInterop.ODirectory, 0, Beneath, out var errno);
        if (parent.IsInvalid)
        {
            return errno is FileInterop.EXDEV or FileInterop.ELOOP ? LinkWalker.Link.Escapes : LinkWalker.Link.None;
        }

        if (FileInterop.Statx(parent, name, out var status) != 0 || !status.IsSymlink)
        {
            return LinkWalker.Link.None;
        }

        // A link that cannot be read is treated like an absolute one: refused.
        return LinkWalker.Link.To(FileInterop.Readlinkat(parent, name) ?? "/");
    }

    private static BoxException Refused(string name, string reason) =>
        new(BoxErrorKind.InvalidArgument, BoxErrorCodes.ArchiveEntryOutsideWorkspace,
            $"The archive entry '{name}' was refused: {reason}. Nothing was written.");

    private static async Task WriteTreeAsync(TarWriter tar, SafeFileHandle directory, string relative, string inArchive, CancellationToken cancellationToken)
    {
        foreach (var name in ListNames(directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (FileInterop.Statx(directory, name, out var status) != 0)
            {
                continue;
            }

            var entryName = WorkspacePath.Join(inArchive, name);
            var childPath = WorkspacePath.Join(relative, name);
            if (status.IsDirectory)
            {
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, entryName + "/")
                {
                    Mode = (UnixFileMode)status.Permissions,
                    ModificationTime = status.Modified,
                }, cancellationToken).ConfigureAwait(false);
                using var child = FileInterop.Openat2(directory, name, FileInterop.ORdOnly | FileInterop.ODirectory | FileInterop.ONoFollow, 0, Beneath, out _);
                if (!child.IsInvalid)
                {
                    await WriteTreeAsync(tar, child, childPath, entryName, cancellationToken).ConfigureAwait(false);
                }
            }
            else if (status.IsSymlink)
            {
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, entryName)
                {
                    LinkName = FileInterop.Readlinkat(directory, name) ?? "",
                    ModificationTime = status.Modified,
                }, cancellationToken).ConfigureAwait(false);
            }
            else if (status.IsRegular)
            {
                using var handle = FileInterop.Openat2(directory, name, FileInterop.ORdOnly | FileInterop.ONoFollow | FileInterop.ONonBlock, 0, Beneath, out _);
                if (handle.IsInvalid)
                {
                    continue;
                }

                await using var data = new FileStream(handle, FileAccess.Read, bufferSize: 0);
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, entryName)
                {
                    Mode = (UnixFileMode)status.Permissions,
                    ModificationTime = status.Modified,
                    DataStream = data,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private readonly record struct PlannedEntry(string Name, string Relative, TarEntryType Type, string? LinkTarget, int Mode);
}
