using System.Formats.Tar;
using System.IO.Compression;
using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Workspaces;

/// <summary>
/// Checks that a file is a gzip-compressed tar whose every entry stays inside the directory it is unpacked into:
/// no absolute names, no <c>..</c>, no hard links, devices or FIFOs, no symlink whose target (followed through the
/// archive's own symlinks) leaves the root, and nothing written through a symlink. A refusal is a 400 naming the entry.
/// </summary>
public static class ArchiveValidator
{
    private const int MaxLinkHops = 40;

    /// <summary>Reads the whole archive at <paramref name="path"/>; returns its entry count or throws <see cref="OrchestratorException"/> (400 <c>invalid_archive</c>).</summary>
    public static async Task<int> ValidateFileAsync(string path, long maxExpandedBytes, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var magic = new byte[2];
        if (await file.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        {
            throw Invalid(file.Length == 0
                ? "The body is empty; send the workspace as a tar.gz (tar -czf workspace.tar.gz -C DIR .)."
                : "The body is not gzip-compressed; send the workspace as a tar.gz (tar -czf workspace.tar.gz -C DIR .).");
        }

        file.Position = 0;
        var names = new List<(string Path, string Name)>();
        var links = new Dictionary<string, (string Target, string Name)>(StringComparer.Ordinal);
        long expanded = 0;
        try
        {
            await using var gzip = new GZipStream(file, CompressionMode.Decompress);
            await using var tar = new TarReader(gzip);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
                {
                    continue;
                }

                var inside = Inside(entry);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        expanded += entry.Length;
                        if (expanded > maxExpandedBytes)
                        {
                            throw Invalid($"The archive unpacks to more than {maxExpandedBytes} bytes, the most a workspace upload may hold.");
                        }

                        break;
                    case TarEntryType.SymbolicLink:
                        var target = entry.LinkName;
                        if (string.IsNullOrEmpty(target) || target.StartsWith('/') || target.Contains('\0', StringComparison.Ordinal))
                        {
                            throw Refused(entry.Name, $"its link target '{target}' is absolute or empty; only relative links that stay inside the archive are accepted");
                        }

                        links[inside] = (target, entry.Name);
                        break;
                    case TarEntryType.HardLink:
                        throw Refused(entry.Name, "hard links are not accepted (GNU tar: --hard-dereference)");
                    case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                        throw Refused(entry.Name, "device files and FIFOs are not accepted");
                    default:
                        throw Refused(entry.Name, $"entries of type {entry.EntryType} are not accepted");
                }

                if (inside.Length == 0 && entry.EntryType != TarEntryType.Directory)
                {
                    throw Refused(entry.Name, "it has no name");
                }

                names.Add((inside, entry.Name));
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
        {
            throw Invalid($"The body is not a valid tar.gz archive ({e.Message}); create it with tar -czf.");
        }

        foreach (var (inside, name) in names)
        {
            // The archive may not write through a symlink it created: where that lands depends on the link, not the name.
            for (var slash = inside.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = inside.IndexOf('/', slash + 1))
            {
                if (links.ContainsKey(inside[..slash]))
                {
                    throw Refused(name, $"it would be written through the symlink '{inside[..slash]}'");
                }
            }
        }

        foreach (var (inside, (target, name)) in links)
        {
            if (!LinkStaysInside(inside, target, links))
            {
                throw Refused(name, $"its link target '{target}' points outside the archive (or loops)");
            }
        }

        return names.Count;
    }

    /// <summary>The entry's path relative to the root, with <c>.</c> and empty segments dropped; absolute names and <c>..</c> are refused.</summary>
    private static string Inside(TarEntry entry)
    {
        var name = entry.Name;
        if (name.StartsWith('/') || name.Contains('\0', StringComparison.Ordinal))
        {
            throw Refused(name, "absolute names are not accepted");
        }

        var segments = Segments(name);
        if (segments.Contains(".."))
        {
            throw Refused(name, "names with '..' are not accepted");
        }

        return string.Join('/', segments);
    }

    /// <summary>Follows <paramref name="target"/> from the link's directory through the archive's symlinks; false if it ever climbs above the root.</summary>
    private static bool LinkStaysInside(string link, string target, Dictionary<string, (string Target, string Name)> links)
    {
        var current = Segments(link);
        current.RemoveAt(current.Count - 1);
        var pending = new List<string>(Segments(target));
        var hops = 0;
        while (pending.Count > 0)
        {
            var segment = pending[0];
            pending.RemoveAt(0);
            if (segment == "..")
            {
                if (current.Count == 0)
                {
                    return false;
                }

                current.RemoveAt(current.Count - 1);
                continue;
            }

            current.Add(segment);
            if (links.TryGetValue(string.Join('/', current), out var next))
            {
                if (++hops > MaxLinkHops)
                {
                    return false;
                }

                current.RemoveAt(current.Count - 1);
                pending.InsertRange(0, Segments(next.Target));
            }
        }

        return true;
    }

    private static List<string> Segments(string path) =>
        [.. path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".")];

    private static OrchestratorException Refused(string name, string reason) =>
        Invalid($"The archive entry '{name}' was refused: {reason}. Nothing was stored.");

    private static OrchestratorException Invalid(string detail) => new(400, "invalid_archive", detail);
}
