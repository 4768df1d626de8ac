using System.Globalization;

namespace Runable.Sandboxes.Cgroups;

/// <summary>
/// The control group(s) of one sandbox: memory, pids and CPU limits, and the one reliable way to kill
/// everything in a sandbox (double-forked daemons included). Uses cgroup v2 where its controllers are
/// available, else the v1 hierarchies.
/// </summary>
public sealed partial class SandboxCgroup
{
    /// <summary>Memory kept for the box server beyond the sandbox's own limit, so a memory bomb kills the bomb, not the box.</summary>
    public const int BoxMemoryReserveMb = 256;

    /// <summary>Processes and threads kept for the box server beyond the sandbox's own limit.</summary>
    public const int BoxPidsReserve = 96;

    private readonly IReadOnlyList<string> _directories;
    private readonly bool _v2;

    private SandboxCgroup(IReadOnlyList<string> directories, bool v2)
    {
        _directories = directories;
        _v2 = v2;
    }

    /// <summary>The <c>cgroup.procs</c> files the box server joins (a process writes its pid to each).</summary>
    public IReadOnlyList<string> ProcsFiles => _directories.Select(d => Path.Combine(d, "box", "cgroup.procs")).ToList();

    /// <summary>
    /// The <c>cgroup.procs</c> files of the workload: the box moves every command it starts there, so the
    /// sandbox's limits fall on the commands and a fork or memory bomb cannot starve the box.
    /// </summary>
    public IReadOnlyList<string> WorkProcsFiles => _directories.Select(d => Path.Combine(d, "work", "cgroup.procs")).ToList();

    /// <summary>Which cgroup version enforces the limits.</summary>
    public string Version => _v2 ? "v2" : "v1";

    /// <summary>Creates the sandbox's cgroup(s) under <paramref name="root"/> with the given limits.</summary>
    public static SandboxCgroup Create(string id, SandboxLimits limits, string root = "/sys/fs/cgroup")
    {
        var memory = Bytes(limits.MemoryMb);
        var memoryTotal = Bytes(limits.MemoryMb + BoxMemoryReserveMb);
        var pids = limits.Pids.ToString(CultureInfo.InvariantCulture);
        var pidsTotal = (limits.Pids + BoxPidsReserve).ToString(CultureInfo.InvariantCulture);
        var quota = ((long)(limits.Cpus * 100_000)).ToString(CultureInfo.InvariantCulture);
        var v2 = CgroupV2Root(root);
        if (v2 is not null)
        {
            var parent = Path.Combine(v2, "runable");
            Directory.CreateDirectory(parent);
            TryWrite(Path.Combine(v2, "cgroup.subtree_control"), "+memory +pids +cpu");
            TryWrite(Path.Combine(parent, "cgroup.subtree_control"), "+memory +pids +cpu");
            var directory = Path.Combine(parent, id);
            Directory.CreateDirectory(directory);
            Write(Path.Combine(directory, "memory.max"), memoryTotal);
            TryWrite(Path.Combine(directory, "memory.swap.max"), "0");
            Write(Path.Combine(directory, "pids.max"), pidsTotal);
            Write(Path.Combine(directory, "cpu.max"), $"{quota} 100000");
            Write(Path.Combine(directory, "cgroup.subtree_control"), "+memory +pids");
            Directory.CreateDirectory(Path.Combine(directory, "box"));
            var work = Path.Combine(directory, "work");
            Directory.CreateDirectory(work);
            Write(Path.Combine(work, "memory.max"), memory);
            TryWrite(Path.Combine(work, "memory.swap.max"), "0");
            Write(Path.Combine(work, "pids.max"), pids);
            return new SandboxCgroup([directory], v2: true);
        }

        var directories = new List<string>();
        foreach (var controller in new[] { "memory", "pids", "cpu" })
        {
            var hierarchy = Path.Combine(root, controller);
            if (!File.Exists(Path.Combine(hierarchy, "cgroup.procs")))
            {
                throw new InvalidOperationException($"No cgroup v2 with memory, pids and cpu, and no v1 '{controller}' hierarchy at {hierarchy}; `runable doctor` says how to fix it.");
            }

            var directory = Path.Combine(hierarchy, "runable", id);
            Directory.CreateDirectory(Path.Combine(directory, "box"));
            Directory.CreateDirectory(Path.Combine(directory, "work"));
            directories.Add(directory);
        }

        var (memoryDirectory, pidsDirectory, cpuDirectory) = (directories[0], directories[1], directories[2]);
        TryWrite(Path.Combine(memoryDirectory, "memory.use_hierarchy"), "1");
        Write(Path.Combine(memoryDirectory, "memory.limit_in_bytes"), memoryTotal);
        TryWrite(Path.Combine(memoryDirectory, "memory.memsw.limit_in_bytes"), memoryTotal);
        Write(Path.Combine(memoryDirectory, "work", "memory.limit_in_bytes"), memory);
        TryWrite(Path.Combine(memoryDirectory, "work", "memory.memsw.limit_in_bytes"), memory);
        TryWrite(Path.Combine(memoryDirectory, "work", "memory.swappiness"), "0");
        Write(Path.Combine(pidsDirectory, "pids.max"), pidsTotal);
        Write(Path.Combine(pidsDirectory, "work", "pids.max"), pids);
        Write(Path.Combine(cpuDirectory, "cpu.cfs_period_us"), "100000");
        Write(Path.Combine(cpuDirectory, "cpu.cfs_quota_us"), quota);
        return new SandboxCgroup(directories, v2: false);
    }

    /// <summary>The ids of sandboxes that have cgroups under <paramref name="root"/> (running or left behind by a crash).</summary>
    public static IReadOnlyList<string> ExistingIds(string root = "/sys/fs/cgroup")
    {
        var parents = CgroupV2Root(root) is { } v2
            ? [Path.Combine(v2, "runable")]
            : new[] { "memory", "pids", "cpu" }.Select(c => Path.Combine(root, c, "runable"));
        return parents.Where(Directory.Exists)
            .SelectMany(Directory.GetDirectories)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The cgroup(s) of an existing sandbox, to kill what is left in them.</summary>
    public static SandboxCgroup Attach(string id, string root = "/sys/fs/cgroup")
    {
        if (CgroupV2Root(root) is { } v2)
        {
            return new SandboxCgroup([Path.Combine(v2, "runable", id)], v2: true);
        }

        return new SandboxCgroup(new[] { "memory", "pids", "cpu" }.Select(c => Path.Combine(root, c, "runable", id)).ToList(), v2: false);
    }

    /// <summary>The pids of every process in the sandbox.</summary>
    public IReadOnlyList<int> Processes() => ReadPids(ProcsFiles.Concat(WorkProcsFiles));

    /// <summary>The pids of the sandbox's workload (the commands, without the box server), which the limits apply to.</summary>
    public IReadOnlyList<int> WorkloadProcesses() => ReadPids(WorkProcsFiles);

    private static List<int> ReadPids(IEnumerable<string> files)
    {
        var pids = new HashSet<int>();
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                continue;
            }

            try
            {
                foreach (var line in File.ReadAllLines(file))
                {
                    if (int.TryParse(line, CultureInfo.InvariantCulture, out var pid))
                    {
                        pids.Add(pid);
                    }
                }
            }
            catch (IOException)
            {
            }
        }

        return [.. pids];
    }

    /// <summary>Kills every process of the sandbox and removes the cgroup(s).</summary>
    public async Task KillAndRemoveAsync(CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (_v2 && File.Exists(Path.Combine(_directories[0], "cgroup.kill")))
            {
                TryWrite(Path.Combine(_directories[0], "cgroup.kill"), "1");
            }

            var remaining = Processes();
            foreach (var pid in remaining)
            {
                _ = Native.Kill(pid, 9);
            }

            if (remaining.Count == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        foreach (var directory in _directories.SelectMany(d => new[] { Path.Combine(d, "box"), Path.Combine(d, "work"), d }))
        {
            for (var attempt = 0; attempt < 50 && Directory.Exists(directory); attempt++)
            {
                try
                {
                    Directory.Delete(directory);
                }
                catch (IOException)
                {
                    // Exiting processes leave the cgroup a moment after SIGKILL.
                    await Task.Delay(20, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static string? CgroupV2Root(string root)
    {
        var controllers = Path.Combine(root, "cgroup.controllers");
        if (!File.Exists(controllers))
        {
            return null;
        }

        var available = File.ReadAllText(controllers).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return available.Contains("memory") && available.Contains("pids") && available.Contains("cpu") ? root : null;
    }

    private static string Bytes(int megabytes) => ((long)megabytes * 1024 * 1024).ToString(CultureInfo.InvariantCulture);

    private static void Write(string file, string value) => File.WriteAllText(file, value);

    private static void TryWrite(string file, string value)
    {
        try
        {
            File.WriteAllText(file, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Optional knob (swap accounting, controllers already enabled).
        }
    }

    private static partial class Native
    {
        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
        public static partial int Kill(int pid, int signal);
    }
}
