namespace Runable.Cli.Doctor;

/// <summary>Finds which cgroup controllers Runable can use to limit sandboxes (memory, pids, cpu), and where:
/// a pure cgroup v2 tree, or v1 hierarchies with an optional v2 mount beside them (hybrid).</summary>
/// <param name="root">Where the cgroup filesystems are mounted.</param>
/// <param name="selfCgroupFile">This process's cgroup membership (<c>/proc/self/cgroup</c>), to find its own v2 cgroup.</param>
public sealed class CgroupProbe(string root = "/sys/fs/cgroup", string selfCgroupFile = "/proc/self/cgroup")
{
    /// <summary>The controllers sandboxes are limited with.</summary>
    public static IReadOnlyList<string> Controllers { get; } = ["memory", "pids", "cpu"];

    /// <summary>Inspects the cgroup mounts; creates and removes one empty probe cgroup to learn whether a
    /// hierarchy is writable.</summary>
    public HostCheck Check()
    {
        if (File.Exists(Path.Combine(root, "cgroup.controllers")))
        {
            return CheckPureV2();
        }

        var unified = Path.Combine(root, "unified");
        var hasUnified = File.Exists(Path.Combine(unified, "cgroup.controllers"));
        var v1 = Controllers.Where(c => Directory.Exists(Path.Combine(root, c))).ToArray();
        if (v1.Length == 0 && !hasUnified)
        {
            return new HostCheck("cgroups", CheckStatus.Missing)
            {
                Detail = $"no cgroup filesystem at {root}",
                Fix = $"mount -t cgroup2 none {root}",
            };
        }

        var unifiedControllers = hasUnified ? ReadControllers(unified) : [];
        var unifiedWritable = hasUnified && IsWritable(unified);
        var where = new Dictionary<string, string?>();
        foreach (var controller in Controllers)
        {
            var v1Path = Path.Combine(root, controller);
            where[controller] =
                Directory.Exists(v1Path) && IsWritable(v1Path) ? v1Path
                : unifiedWritable && unifiedControllers.Contains(controller) ? unified
                : null;
        }

        var version = hasUnified ? $"v1 + v2 at {unified}" : "v1";
        var fix = $"mount the missing v1 hierarchies (mount -t cgroup -o CONTROLLER cgroup {root}/CONTROLLER), " +
            "or boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2; in a container: --cgroupns=private with a writable /sys/fs/cgroup";
        return Report(version, where, fix);
    }

    private HostCheck CheckPureV2()
    {
        var own = OwnV2Cgroup();
        var controllers = ReadControllers(own);
        var writable = IsWritable(own);
        var where = Controllers.ToDictionary(c => c, c => writable && controllers.Contains(c) ? own : null);
        var fix = !writable
            ? $"make {own} writable for this user (systemd: Delegate=yes; a container: --cgroupns=private and a writable /sys/fs/cgroup)"
            : $"delegate the controllers from the parent: echo '+memory +pids +cpu' > {Path.GetDirectoryName(own) ?? root}/cgroup.subtree_control";
        return Report("v2", where, fix);
    }

    private static HostCheck Report(string version, Dictionary<string, string?> where, string fix)
    {
        var usable = where.Count(w => w.Value is not null);
        var detail = string.Join("; ", where.Select(w => w.Value is { } path ? $"{w.Key}: {path}" : $"{w.Key}: not usable"));
        return new HostCheck("cgroups", usable == where.Count ? CheckStatus.Found : CheckStatus.Limited)
        {
            Version = version,
            Detail = detail,
            Fix = usable == where.Count ? null : fix,
        };
    }

    /// <summary>This process's own v2 cgroup directory (<c>0::/path</c>), or the root when it cannot be told.</summary>
    private string OwnV2Cgroup()
    {
        try
        {
            foreach (var line in File.ReadLines(selfCgroupFile))
            {
                if (line.StartsWith("0::", StringComparison.Ordinal))
                {
                    var own = Path.Join(root, line[3..].TrimEnd('/'));
                    return File.Exists(Path.Combine(own, "cgroup.controllers")) ? own : root;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return root;
    }

    private static HashSet<string> ReadControllers(string directory)
    {
        try
        {
            return [.. File.ReadAllText(Path.Combine(directory, "cgroup.controllers"))
                .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Whether a child cgroup can be created here: the only honest test, since root passes any
    /// permission check on a read-only mount.</summary>
    private static bool IsWritable(string directory)
    {
        var probe = Path.Combine(directory, $"runable-doctor-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe, recursive: false);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
