using System.Text;
using Runable.Box.Protocol;

namespace Runable.Box.Files;

/// <summary>
/// The lexical half of path confinement: turns a caller's path into a clean path relative to the workspace
/// root, refusing absolute paths elsewhere, <c>..</c> that climbs out, NUL bytes and over-long names before
/// anything touches the disk. The kernel (openat2 RESOLVE_BENEATH) then enforces the boundary at use, symlinks included.
/// </summary>
public static class WorkspacePath
{
    /// <summary>Longest path accepted, in UTF-8 bytes (Linux's PATH_MAX).</summary>
    public const int MaxPathBytes = 4096;

    /// <summary>Longest path component accepted, in UTF-8 bytes (Linux's NAME_MAX).</summary>
    public const int MaxNameBytes = 255;

    /// <summary>
    /// Normalizes <paramref name="path"/> against <paramref name="workspace"/>: returns "" for the root, else
    /// components joined by '/', with no '.', '..' or empty components.
    /// </summary>
    public static string Normalize(string workspace, string? path)
    {
        if (path is null)
        {
            throw BoxException.InvalidArgument("path is required.");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.InvalidPath, "The path contains a NUL byte.");
        }

        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.InvalidPath, $"The path is longer than {MaxPathBytes} bytes.");
        }

        var relative = path;
        if (path.StartsWith('/'))
        {
            var root = workspace.TrimEnd('/');
            if (path == root || path == root + "/")
            {
                relative = "";
            }
            else if (path.StartsWith(root + "/", StringComparison.Ordinal))
            {
                relative = path[(root.Length + 1)..];
            }
            else
            {
                throw Outside(path);
            }
        }

        var parts = new List<string>();
        foreach (var part in relative.Split('/'))
        {
            switch (part)
            {
                case "" or ".":
                    continue;
                case "..":
                    if (parts.Count == 0)
                    {
                        throw Outside(path);
                    }

                    parts.RemoveAt(parts.Count - 1);
                    continue;
            }

            if (Encoding.UTF8.GetByteCount(part) > MaxNameBytes)
            {
                throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.InvalidPath, $"A name in the path is longer than {MaxNameBytes} bytes.");
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }

    /// <summary>The parent of a normalized path ("" for a top-level name) and its last component.</summary>
    public static (string Parent, string Name) Split(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? ("", relative) : (relative[..slash], relative[(slash + 1)..]);
    }

    /// <summary>Joins two normalized paths.</summary>
    public static string Join(string parent, string name) => parent.Length == 0 ? name : $"{parent}/{name}";

    /// <summary>The error for a path that leads outside the workspace.</summary>
    public static BoxException Outside(string path) =>
        new(BoxErrorKind.Forbidden, BoxErrorCodes.PathOutsideWorkspace,
            $"'{path}' resolves outside the workspace; use a path relative to the workspace root (symlinks on the way must be relative and stay inside it: absolute symlinks are refused).");
}
