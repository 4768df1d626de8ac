using System.Globalization;

namespace Runable.Bench;

/// <summary>
/// The memory of a group of processes, in KiB: resident set, proportional set (shared pages split among their
/// users), and anonymous memory (heaps and stacks: what no file backs, so what the kernel cannot drop).
/// </summary>
public sealed record MemoryFootprint(long RssKb, long PssKb, long AnonymousKb, int Processes)
{
    public double RssMb => RssKb / 1024.0;

    public double PssMb => PssKb / 1024.0;

    public double AnonymousMb => AnonymousKb / 1024.0;
}

/// <summary>Reads memory figures from /proc.</summary>
public static class ProcMemory
{
    /// <summary>The summed Rss, Pss and anonymous memory of <paramref name="pids"/> from their smaps_rollup; processes gone meanwhile count nothing.</summary>
    public static MemoryFootprint Of(IEnumerable<int> pids)
    {
        long rss = 0, pss = 0, anonymous = 0;
        var count = 0;
        foreach (var pid in pids)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines($"/proc/{pid}/smaps_rollup");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            rss += Field(lines, "Rss:");
            pss += Field(lines, "Pss:");
            anonymous += Field(lines, "Anonymous:");
            count++;
        }

        return new MemoryFootprint(rss, pss, anonymous, count);
    }

    /// <summary>MemAvailable from /proc/meminfo, in KiB.</summary>
    public static long AvailableKb() => Field(File.ReadAllLines("/proc/meminfo"), "MemAvailable:");

    /// <summary><paramref name="root"/> and all its descendants, found through the parent pids in /proc/*/stat.</summary>
    public static IReadOnlyList<int> Tree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            // The command name is in parentheses and may hold spaces; the state and parent pid follow the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            if (!children.TryGetValue(parent, out var list))
            {
                children[parent] = list = [];
            }

            list.Add(pid);
        }

        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            if (children.TryGetValue(tree[i], out var list))
            {
                tree.AddRange(list);
            }
        }

        return tree;
    }

    private static long Field(string[] lines, string name)
    {
        var line = lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
