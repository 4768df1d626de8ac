using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Runable.Box.Native;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Files;

namespace Runable.Box.Files;

/// <summary>
/// Files of the workspace, and nothing else. Every path is resolved by the kernel with openat2
/// (RESOLVE_BENEATH) from a descriptor of the workspace root, and content is read and written through the
/// descriptor that resolution returned, so no symlink, <c>..</c> or swap between check and use leads outside.
/// </summary>
public sealed partial class FileService : IDisposable
{
    /// <summary>Largest file the text, edit and seed read routes load whole.</summary>
    public const long MaxTextBytes = 64L * 1024 * 1024;

    /// <summary>Most characters one text read returns; the rest is reported as truncated.</summary>
    public const int MaxTextChars = 1024 * 1024;

    private const ulong Beneath = FileInterop.ResolveBeneath | FileInterop.ResolveNoMagicLinks;
    private const int DefaultFileMode = 0x1A4; // 0644
    private const int DefaultDirectoryMode = 0x1ED; // 0755
    private readonly SafeFileHandle _root;
    private readonly string _realRoot;

    /// <summary>Opens the workspace root once; every later path is resolved beneath this descriptor.</summary>
    public FileService(BoxState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Workspace = state.Workspace;
        using var cwd = new SafeFileHandle(-100, ownsHandle: false); // AT_FDCWD
        _root = FileInterop.Openat2(cwd, Workspace, FileInterop.OPath | FileInterop.ODirectory, 0, 0, out var errno);
        if (_root.IsInvalid)
        {
            throw new InvalidOperationException($"Cannot open the workspace '{Workspace}' (errno {errno}).");
        }

        _realRoot = RealPath(_root);
    }

    /// <summary>The workspace root, as callers name it.</summary>
    public string Workspace { get; }

    /// <summary>Normalizes a caller's path to one relative to the workspace root ("" for the root).</summary>
    public string Normalize(string? path) => WorkspacePath.Normalize(Workspace, path);

    /// <summary>Opens a regular file for reading.</summary>
    public FileStream OpenRead(string? path)
    {
        var relative = Normalize(path);
        // O_NONBLOCK: a FIFO planted in the workspace must not hang the reader.
        var handle = Open(relative, FileInterop.ORdOnly | FileInterop.ONonBlock);
        var status = Stat(handle, relative);
        if (status.IsDirectory)
        {
            handle.Dispose();
            throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.IsADirectory,
                $"'{relative}' is a directory: list it with GET /files/list or download it with GET /files/archive.");
        }

        if (!status.IsRegular)
        {
            handle.Dispose();
            throw BoxException.InvalidArgument($"'{relative}' is not a regular file (a device, socket or FIFO).");
        }

        return new FileStream(handle, FileAccess.Read, bufferSize: 0);
    }

    /// <summary>Writes <paramref name="content"/> to a file, creating parent directories; the file is replaced atomically.</summary>
    public async Task<FileWriteResult> WriteAsync(string? path, Stream content, CancellationToken cancellationToken = default)
    {
        var relative = Normalize(path);
        var size = await WriteFileAsync(relative, content, mode: null, cancellationToken).ConfigureAwait(false);
        return new FileWriteResult { Path = relative, Size = size };
    }

    /// <summary>Reads a range of lines of a text file.</summary>
    public TextFileResult ReadText(string? path, int? startLine, int? endLine)
    {
        var relative = Normalize(path);
        if (startLine is < 1 || endLine is < 1 || (startLine > endLine))
        {
            throw BoxException.InvalidArgument("start_line and end_line are 1-based, and start_line must not be after end_line.");
        }

        var text = ReadAllText(relative);
        var lines = UnifiedDiff.SplitLines(text);
        var first = startLine ?? 1;
        var last = Math.Min(endLine ?? lines.Count, lines.Count);
        var content = new StringBuilder();
        var truncated = false;
        for (var i = first; i <= last; i++)
        {
            var line = lines[i - 1];
            if (content.Length + line.Length > MaxTextChars)
            {
                truncated = true;
                if (content.Length == 0)
                {
                    // A single line longer than the cap is cut, so a reader going on from end_line + 1 still moves forward.
                    var cut = char.IsHighSurrogate(line[MaxTextChars - 1]) ? MaxTextChars - 1 : MaxTextChars;
                    content.Append(line.AsSpan(0, cut));
                    last = i;
                }
                else
                {
                    last = i - 1;
                }

                break;
            }

            content.Append(line);
        }

        return new TextFileResult
        {
            Path = relative,
            Content = content.ToString(),
            StartLine = first,
            EndLine = Math.Max(last, first - 1),
            TotalLines = lines.Count,
            Truncated = truncated,
        };
    }

    /// <summary>Reads a whole text file (for the seed-compatible route); bytes that are not UTF-8 read as U+FFFD.</summary>
    public string ReadAllText(string? path) => ReadAllText(path, strict: false);

    /// <summary>Reads a whole text file; with <paramref name="strict"/>, bytes that are not UTF-8 refuse it (400 not_text).</summary>
    private string ReadAllText(string? path, bool strict)
    {
        var relative = Normalize(path);
        using var stream = OpenRead(relative);
        if (stream.Length > MaxTextBytes)
        {
            throw new BoxException(BoxErrorKind.TooLarge, BoxErrorCodes.FileTooLarge,
                $"'{relative}' has {stream.Length} bytes; text routes read at most {MaxTextBytes}. Use GET /files for the raw bytes.");
        }

        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        if (bytes.AsSpan(0, Math.Min(bytes.Length, 8192)).Contains((byte)0))
        {
            throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.NotText,
                $"'{relative}' looks binary (it has NUL bytes); read it with GET /files.");
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: strict).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.NotText,
                $"'{relative}' is not valid UTF-8, so editing it as text would change bytes outside the edit; write it with PUT /files.");
        }
    }

    /// <summary>Replaces the one occurrence of <c>old_str</c> with <c>new_str</c> and returns the unified diff.</summary>
    public async Task<FileEditResult> EditAsync(FileEditRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.OldStr))
        {
            throw BoxException.InvalidArgument("old_str is required and must not be empty.");
        }

        if (request.NewStr is null)
        {
            throw BoxException.InvalidArgument("new_str is required (use \"\" to delete old_str).");
        }

        var relative = Normalize(request.Path);
        // Strict: a lenient decode would turn every stray non-UTF-8 byte into U+FFFD when the file is written back.
        var before = ReadAllText(relative, strict: true);
        var count = CountOccurrences(before, request.OldStr);
        if (count != 1)
        {
            var error = count == 0
                ? new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.EditNoMatch, $"old_str does not occur in '{relative}'; check whitespace and line endings.")
                : new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.EditAmbiguous, $"old_str occurs {count} times in '{relative}'; include more context so it occurs exactly once.");
            error.Details["count"] = count;
            throw error;
        }

        var index = before.IndexOf(request.OldStr, StringComparison.Ordinal);
        var after = string.Concat(before.AsSpan(0, index), request.NewStr, before.AsSpan(index + request.OldStr.Length));
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(after));
        await WriteFileAsync(relative, content, mode: null, cancellationToken).ConfigureAwait(false);
        return new FileEditResult { Path = relative, Diff = UnifiedDiff.Create(relative, before, after) };
    }

    /// <summary>Creates a directory and its parents; succeeds when it already exists.</summary>
    public FileEntry Mkdir(string? path)
    {
        var relative = Normalize(path);
        EnsureDirectory(relative).Dispose();
        return Stat(relative);
    }

    /// <summary>Describes one path (a symlink is described, not followed).</summary>
    public FileEntry Stat(string? path)
    {
        var relative = Normalize(path);
        if (relative.Length == 0)
        {
            var rootStatus = Stat(_root, relative);
            return Entry(_root, "", "", rootStatus);
        }

        var (parentPath, name) = WorkspacePath.Split(relative);
        using var parent = Open(parentPath, FileInterop.OPath | FileInterop.ODirectory);
        var errno = FileInterop.Statx(parent, name, out var status);
        if (errno != 0)
        {
            throw Error(errno, relative);
        }

        return Entry(parent, name, relative, status);
    }

    /// <summary>Moves or renames a file or directory; the destination's parents are created.</summary>
    public FileEntry Move(FileMoveRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var source = Normalize(request.Src ?? throw BoxException.InvalidArgument("src is required."));
        var destination = Normalize(request.Dst ?? throw BoxException.InvalidArgument("dst is required."));
        if (source.Length == 0 || destination.Length == 0)
        {
            throw new BoxException(BoxErrorKind.Forbidden, BoxErrorCodes.PathOutsideWorkspace, "The workspace root itself cannot be moved or replaced.");
        }

        var (sourceParentPath, sourceName) = WorkspacePath.Split(source);
        var (destinationParentPath, destinationName) = WorkspacePath.Split(destination);
        using var sourceParent = Open(sourceParentPath, FileInterop.OPath | FileInterop.ODirectory);
        using var destinationParent = EnsureDirectory(destinationParentPath);
        var errno = FileInterop.Renameat2(sourceParent, sourceName, destinationParent, destinationName,
            request.Overwrite == true ? 0 : FileInterop.RenameNoReplace);
        if (errno == FileInterop.EEXIST)
        {
            throw new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.FileExists, $"'{destination}' exists; pass overwrite: true to replace it.");
        }

        if (errno == FileInterop.EINVAL)
        {
            throw BoxException.InvalidArgument($"Cannot move '{source}' into itself.");
        }

        if (errno != 0)
        {
            throw Error(errno, errno == FileInterop.ENOENT ? source : destination);
        }

        return Stat(destination);
    }

    /// <summary>Deletes a file, a symlink (never what it points to) or a directory (recursively only when asked).</summary>
    public void Delete(string? path, bool recursive)
    {
        var relative = Normalize(path);
        if (relative.Length == 0)
        {
            throw new BoxException(BoxErrorKind.Forbidden, BoxErrorCodes.PathOutsideWorkspace, "The workspace root itself cannot be deleted.");
        }

        var (parentPath, name) = WorkspacePath.Split(relative);
        using var parent = Open(parentPath, FileInterop.OPath | FileInterop.ODirectory);
        var errno = FileInterop.Statx(parent, name, out var status);
        if (errno != 0)
        {
            throw Error(errno, relative);
        }

        if (!status.IsDirectory)
        {
            Check(FileInterop.Unlinkat(parent, name, 0), relative);
            return;
        }

        if (recursive)
        {
            RemoveTree(parent, name, relative);
            return;
        }

        errno = FileInterop.Unlinkat(parent, name, FileInterop.AtRemoveDir);
        if (errno == FileInterop.ENOTEMPTY)
        {
            throw new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.DirectoryNotEmpty, $"'{relative}' is not empty; pass recursive=true to delete it with its contents.");
        }

        Check(errno, relative);
    }

    /// <summary>Closes the workspace root descriptor.</summary>
    public void Dispose() => _root.Dispose();

    /// <summary>Opens <paramref name="relative"/> beneath the workspace root, mapping failures to the box's errors.</summary>
    internal SafeFileHandle Open(string relative, int flags, int mode = 0)
    {
        var handle = FileInterop.Openat2(_root, relative.Length == 0 ? "." : relative, flags, mode, Beneath, out var errno);
        if (handle.IsInvalid)
        {
            throw Error(errno, relative);
        }

        return handle;
    }

    /// <summary>Opens a plain <paramref name="name"/> inside an already-resolved directory, never following a final symlink.</summary>
    internal static SafeFileHandle OpenChild(SafeFileHandle directory, string name, int flags, string relative, int mode = 0)
    {
        var handle = FileInterop.Openat2(directory, name, flags | FileInterop.ONoFollow, mode, Beneath, out var errno);
        if (handle.IsInvalid)
        {
            throw Error(errno, relative);
        }

        return handle;
    }

    /// <summary>Opens a directory, creating it and its missing parents, each beneath the root.</summary>
    internal SafeFileHandle EnsureDirectory(string relative)
    {
        var handle = FileInterop.Openat2(_root, relative.Length == 0 ? "." : relative, FileInterop.OPath | FileInterop.ODirectory, 0, Beneath, out var errno);
        if (!handle.IsInvalid)
        {
            return handle;
        }

        handle.Dispose();
        if (errno != FileInterop.ENOENT)
        {
            throw Error(errno, relative);
        }

        var (parentPath, name) = WorkspacePath.Split(relative);
        using (var parent = EnsureDirectory(parentPath))
        {
            errno = FileInterop.Mkdirat(parent, name, DefaultDirectoryMode);
            if (errno != 0 && errno != FileInterop.EEXIST)
            {
                throw Error(errno, relative);
            }
        }

        return Open(relative, FileInterop.OPath | FileInterop.ODirectory);
    }

    /// <summary>
    /// Writes a file through a temporary sibling renamed over the target, so a crash never leaves it half
    /// written. Writing to a symlink writes to the file it points to (which must be inside the workspace).
    /// </summary>
    internal async Task<long> WriteFileAsync(string relative, Stream content, int? mode, CancellationToken cancellationToken)
    {
        if (relative.Length == 0)
        {
            throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.IsADirectory, "The workspace root is a directory; name a file inside it.");
        }

        relative = ResolveSymlinkTarget(relative);
        var (parentPath, name) = WorkspacePath.Split(relative);
        using var parent = EnsureDirectory(parentPath);
        var existingMode = FileInterop.Statx(parent, name, out var existing) == 0 ? existing : (FileStatus?)null;
        if (existingMode is { IsDirectory: true })
        {
            throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.IsADirectory, $"'{relative}' is a directory.");
        }

        var temporary = $".{(name.Length > 200 ? name[..200] : name)}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(6))}.tmp";
        var permissions = mode ?? existingMode?.Permissions ?? DefaultFileMode;
        long size;
        using (var handle = OpenChild(parent, temporary, FileInterop.OWrOnly | FileInterop.OCreat | FileInterop.OExcl, relative, permissions))
        {
            try
            {
                await using var file = new FileStream(handle, FileAccess.Write, bufferSize: 0);
                await content.CopyToAsync(file, 81920, cancellationToken).ConfigureAwait(false);
                size = file.Length;
                File.SetUnixFileMode(handle, (UnixFileMode)(permissions & 0x1FF));
            }
            catch
            {
                FileInterop.Unlinkat(parent, temporary, 0);
                throw;
            }
        }

        var errno = FileInterop.Renameat2(parent, temporary, parent, name, 0);
        if (errno != 0)
        {
            FileInterop.Unlinkat(parent, temporary, 0);
            throw Error(errno, relative);
        }

        return size;
    }

    /// <summary>When <paramref name="relative"/> is a symlink, the workspace path of the file it resolves to (which must be inside).</summary>
    private string ResolveSymlinkTarget(string relative)
    {
        for (var hops = 0; hops < 40; hops++)
        {
            var (parentPath, name) = WorkspacePath.Split(relative);
            using var parent = FileInterop.Openat2(_root, parentPath.Length == 0 ? "." : parentPath, FileInterop.OPath | FileInterop.ODirectory, 0, Beneath, out var parentErrno);
            if (parent.IsInvalid)
            {
                // A missing parent is created later; any other failure is reported there too.
                return relative;
            }

            if (FileInterop.Statx(parent, name, out var status) != 0 || !status.IsSymlink)
            {
                return relative;
            }

            using var target = FileInterop.Openat2(parent, name, FileInterop.OPath, 0, Beneath, out var errno);
            if (target.IsInvalid)
            {
                if (errno == FileInterop.ENOENT)
                {
                    return relative; // a dangling link is replaced by the file
                }

                throw Error(errno, relative);
            }

            var real = RealPath(target);
            relative = real == _realRoot ? "" : real.StartsWith(_realRoot + "/", StringComparison.Ordinal)
                ? real[(_realRoot.Length + 1)..]
                : throw WorkspacePath.Outside(relative);
        }

        throw Error(FileInterop.ELOOP, relative);
    }

    private static void RemoveTree(SafeFileHandle parent, string name, string relative)
    {
        using (var directory = OpenChild(parent, name, FileInterop.ORdOnly | FileInterop.ODirectory, relative))
        {
            foreach (var child in ListNames(directory))
            {
                var childPath = WorkspacePath.Join(relative, child);
                if (FileInterop.Statx(directory, child, out var status) != 0)
                {
                    continue;
                }

                if (status.IsDirectory)
                {
                    RemoveTree(directory, child, childPath);
                }
                else
                {
                    Check(FileInterop.Unlinkat(directory, child, 0), childPath);
                }
            }
        }

        Check(FileInterop.Unlinkat(parent, name, FileInterop.AtRemoveDir), relative);
    }

    /// <summary>The names in an open directory.</summary>
    internal static List<string> ListNames(SafeFileHandle directory)
    {
        var path = $"/proc/self/fd/{directory.DangerousGetHandle()}";
        return Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
    }

    internal static FileEntry Entry(SafeFileHandle directory, string name, string relative, FileStatus status) => new()
    {
        Name = name.Length == 0 ? "." : name,
        Path = relative,
        Type = status.IsDirectory ? FileEntryType.Dir : status.IsRegular ? FileEntryType.File : status.IsSymlink ? FileEntryType.Symlink : FileEntryType.Other,
        Size = status.Size,
        Modified = status.Modified,
        Mode = status.Permissions,
        Target = status.IsSymlink ? FileInterop.Readlinkat(directory, name) : null,
    };

    private static FileStatus Stat(SafeFileHandle handle, string relative)
    {
        var errno = FileInterop.Statx(handle, "", out var status);
        return errno == 0 ? status : throw Error(errno, relative);
    }

    private static string RealPath(SafeFileHandle handle) =>
        new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget
        ?? throw new IOException("Cannot read a descriptor's path from /proc/self/fd.");

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var index = text.IndexOf(value, StringComparison.Ordinal); index >= 0; index = text.IndexOf(value, index + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static void Check(int errno, string relative)
    {
        if (errno != 0)
        {
            throw Error(errno, relative);
        }
    }

    /// <summary>Maps an errno from resolving or using <paramref name="relative"/> to the box's error.</summary>
    internal static BoxException Error(int errno, string relative) => errno switch
    {
        FileInterop.EXDEV => WorkspacePath.Outside(relative),
        FileInterop.ELOOP => new BoxException(BoxErrorKind.Forbidden, BoxErrorCodes.PathOutsideWorkspace,
            $"'{relative}' goes through too many symlinks, or through a symlink where none may be."),
        FileInterop.ENOENT => BoxException.NotFound(BoxErrorCodes.FileNotFound, $"'{relative}' does not exist in the workspace."),
        FileInterop.ENOTDIR => new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.NotADirectory, $"A part of '{relative}' is not a directory."),
        FileInterop.EISDIR => new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.IsADirectory, $"'{relative}' is a directory."),
        FileInterop.EEXIST => new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.FileExists, $"'{relative}' already exists."),
        FileInterop.ENOTEMPTY => new BoxException(BoxErrorKind.Conflict, BoxErrorCodes.DirectoryNotEmpty, $"'{relative}' is not empty."),
        FileInterop.ENAMETOOLONG => new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.InvalidPath, $"'{relative}' is too long."),
        FileInterop.EACCES or FileInterop.EPERM => new BoxException(BoxErrorKind.Forbidden, BoxErrorCodes.PermissionDenied, $"Permission denied for '{relative}'."),
        FileInterop.ENOSPC => new BoxException(BoxErrorKind.TooLarge, BoxErrorCodes.NoSpace, "The workspace is full."),
        FileInterop.ENOSYS => new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.Internal, "This kernel lacks openat2 (Linux 5.6 or later is needed)."),
        _ => new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.InvalidPath, $"'{relative}' cannot be used (errno {errno})."),
    };
}
