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
    /// that leave the directory, absolute names, hard links, devices and FIFOs, and symlinks pointing outside
    /// the workspace refuse the whole archive.
    /// </summary>
    public async Task<ArchiveExtractResult> ExtractArchiveAsync(string? path, Func<Stream> openArchive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(openArchive);
        var destination = Normalize(path ?? "");
        var plan = new List<(string Relative, TarEntryType Type, string? LinkTarget, int Mode)>();
        await ReadEntriesAsync(openArchive, async entry =>
        {
            plan.Add(Validate(entry, destination));
            await Task.CompletedTask.ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        var index = 0;
        EnsureDirectory(destination).Dispose();
        await ReadEntriesAsync(openArchive, async entry =>
        {
            var (relative, type, linkTarget, mode) = plan[index++];
            switch (type)
            {
                case TarEntryType.Directory:
                    EnsureDirectory(relative).Dispose();
                    break;
                case TarEntryType.SymbolicLink:
                    var (parentPath, name) = WorkspacePath.Split(relative);
                    using (var parent = EnsureDirectory(parentPath))
                    {
                        if (FileInterop.Statx(parent, name, out var existing) == 0 && !existing.IsDirectory)
                        {
                            FileInterop.Unlinkat(parent, name, 0);
                        }

                        Check(FileInterop.Symlinkat(linkTarget!, parent, name), relative);
                    }

                    break;
                default:
                    await WriteFileAsync(relative, entry.DataStream ?? Stream.Null, mode, cancellationToken).ConfigureAwait(false);
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

    private (string Relative, TarEntryType Type, string? LinkTarget, int Mode) Validate(TarEntry entry, string destination)
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
                return (relative, entry.EntryType == TarEntryType.Directory ? TarEntryType.Directory : TarEntryType.RegularFile, null, (int)entry.Mode & 0x1FF);
            case TarEntryType.SymbolicLink:
                var target = entry.LinkName;
                if (string.IsNullOrEmpty(target) || target.StartsWith('/') || target.Contains('\0', StringComparison.Ordinal))
                {
                    throw Refused(name, $"its link target '{target}' is absolute or empty");
                }

                var (linkParent, _) = WorkspacePath.Split(relative);
                if (!LexicallyInside([.. Segments(linkParent), .. Segments(target)]))
                {
                    throw Refused(name, $"its link target '{target}' points outside the workspace");
                }

                return (relative, TarEntryType.SymbolicLink, target, 0);
            default:
                throw Refused(name, $"entries of type {entry.EntryType} (hard links, devices, FIFOs) are not accepted");
        }
    }

    private static IEnumerable<string> Segments(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static bool LexicallyInside(IEnumerable<string> segments)
    {
        var depth = 0;
        foreach (var segment in segments)
        {
            depth += segment switch { "." => 0, ".." => -1, _ => 1 };
            if (depth < 0)
            {
                return false;
            }
        }

        return true;
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
}
