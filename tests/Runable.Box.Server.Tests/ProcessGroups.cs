namespace Runable.Box.Server.Tests;

/// <summary>Looks at the host's /proc to see which processes of a process group are still alive.</summary>
internal static class ProcessGroups
{
    /// <summary>Pids of live (not zombie) processes whose process group is <paramref name="pgid"/>.</summary>
    public static List<int> Members(int pgid)
    {
        var members = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z" && int.Parse(fields[2]) == pgid)
                {
                    members.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        return members;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the group to have no live member.</summary>
    public static async Task<bool> WaitUntilGoneAsync(int pgid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Members(pgid).Count == 0)
            {
                return true;
            }

            await Task.Delay(50);
        }

        return Members(pgid).Count == 0;
    }
}
