namespace Runable.Box.Files;

/// <summary>
/// Walks a workspace path the way the kernel will, component by component, expanding every symlink on the way
/// (those an archive is about to create and those already on disk), to tell before anything is written whether
/// the path stays inside the workspace. It only lets bad archives be refused whole: the kernel
/// (openat2 RESOLVE_BENEATH) still enforces the boundary at each use.
/// </summary>
internal sealed class LinkWalker(Func<string, LinkWalker.Link> lookup)
{
    private const int MaxHops = 40;

    /// <summary>What is at a path whose parents are real directories: no symlink, a symlink, or something unreachable beneath the root.</summary>
    public readonly record struct Link(string? Target, bool Outside)
    {
        public static Link None => default;

        public static Link Escapes => new(null, true);

        public static Link To(string target) => new(target, false);
    }

    /// <summary>True when <paramref name="path"/> (relative to the workspace root, '..' allowed) resolves inside the workspace.</summary>
    public bool StaysInside(string path)
    {
        var resolved = new List<string>();
        var pending = new Stack<string>();
        Push(pending, path);
        var hops = 0;
        while (pending.TryPop(out var segment))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (resolved.Count == 0)
                {
                    return false;
                }

                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            resolved.Add(segment);
            var link = lookup(string.Join('/', resolved));
            if (link.Outside)
            {
                return false;
            }

            if (link.Target is not { } target)
            {
                continue;
            }

            // RESOLVE_BENEATH refuses absolute symlinks outright, even ones naming a place inside.
            if (++hops > MaxHops || target.Length == 0 || target.StartsWith('/'))
            {
                return false;
            }

            resolved.RemoveAt(resolved.Count - 1);
            Push(pending, target);
        }

        return true;
    }

    private static void Push(Stack<string> pending, string path)
    {
        var segments = path.Split('/');
        for (var i = segments.Length - 1; i >= 0; i--)
        {
            pending.Push(segments[i]);
        }
    }
}
