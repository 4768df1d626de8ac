using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Runable.Cli.Doctor;

/// <summary>Checks the host for everything Runable uses, and says how to fix what is missing.</summary>
public static partial class HostDoctor
{
    private const string Apt = "apt-get install -y";

    /// <summary>Runs every check (each takes at most a few seconds).</summary>
    public static IReadOnlyList<HostCheck> CheckAll() =>
    [
        Program("bash", "bash", ["--version"], $"{Apt} bash", "shell commands and sessions", required: true),
        Program("setsid (util-linux)", "setsid", ["--version"], $"{Apt} util-linux", "process groups for every command", required: true),
        Program("git", "git", ["--version"], $"{Apt} git", "workspace diffs"),
        Program("bubblewrap", "bwrap", ["--version"], $"{Apt} bubblewrap", "sandbox isolation"),
        CheckCgroups(),
        CheckSeccomp(),
        Program("Xvfb", "Xvfb", ["-version"], $"{Apt} xvfb", "the virtual desktop"),
        Program("xdotool", "xdotool", ["version"], $"{Apt} xdotool", "desktop input"),
        Program("x11vnc", "x11vnc", ["-version"], $"{Apt} x11vnc", "live desktop view"),
        DebianPackage("noVNC", "novnc", "/usr/share/novnc", $"{Apt} novnc", "desktop view in the browser"),
        DebianPackage("websockify", "websockify", "/usr/bin/websockify", $"{Apt} websockify", "VNC over WebSocket"),
        CheckIpykernel(),
        Program("Node.js", "node", ["--version"], $"{Apt} nodejs npm", "the TypeScript kernel"),
        Program("tslab", "tslab", ["--version"], "npm install -g tslab @types/node", "the TypeScript kernel"),
        CheckKvm(),
        Program("Chromium", "chromium", ["--version"], $"{Apt} chromium", "browser tests and the UI's screenshots"),
        CheckPostgres(),
    ];

    /// <summary>Checks that <paramref name="program"/> runs and reports the first line it prints.</summary>
    public static HostCheck Program(string what, string program, string[] versionArguments, string fix, string usedFor, bool required = false)
    {
        var output = HostProbe.Run(program, versionArguments);
        return output is null
            ? new HostCheck(what, CheckStatus.Missing, "", fix, usedFor, required)
            : new HostCheck(what, CheckStatus.Found, HostProbe.FirstLine(output), "", usedFor, required);
    }

    private static HostCheck DebianPackage(string what, string package, string path, string fix, string usedFor)
    {
        var version = HostProbe.DebianPackageVersion(package);
        return version is not null || Path.Exists(path)
            ? new HostCheck(what, CheckStatus.Found, version ?? path, "", usedFor)
            : new HostCheck(what, CheckStatus.Missing, "", fix, usedFor);
    }

    /// <summary>Which cgroup controllers can limit memory, pids and CPU, on v2 or on the v1 hierarchies.</summary>
    public static HostCheck CheckCgroups(string root = "/sys/fs/cgroup")
    {
        const string UsedFor = "sandbox memory, pids and CPU limits";
        var v2 = File.Exists(Path.Combine(root, "cgroup.controllers")) ? root
            : File.Exists(Path.Combine(root, "unified", "cgroup.controllers")) ? Path.Combine(root, "unified") : null;
        var v2Controllers = v2 is null ? [] : File.ReadAllText(Path.Combine(v2, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var usable = new List<string>();
        foreach (var controller in new[] { "memory", "pids", "cpu" })
        {
            if (v2Controllers.Contains(controller))
            {
                usable.Add($"{controller} (v2)");
            }
            else if (Directory.Exists(Path.Combine(root, controller)) || (controller == "cpu" && Directory.Exists(Path.Combine(root, "cpu,cpuacct"))))
            {
                usable.Add($"{controller} (v1)");
            }
        }

        var status = usable.Count == 3 ? CheckStatus.Found : usable.Count > 0 ? CheckStatus.Limited : CheckStatus.Missing;
        var version = usable.Count > 0 ? string.Join(", ", usable) : v2 is null ? "no cgroup mount" : $"cgroup2 at {v2} without memory/pids/cpu";
        var fix = status == CheckStatus.Found ? "" : "boot with systemd.unified_cgroup_hierarchy=1, or enable the controllers in the parent's cgroup.subtree_control";
        return new HostCheck("cgroups", status, version, fix, UsedFor);
    }

    private static HostCheck CheckSeccomp()
    {
        const string UsedFor = "the sandbox's system-call filter";
        var loaded = NativeLibrary.TryLoad("libseccomp.so.2", out var handle);
        if (loaded)
        {
            NativeLibrary.Free(handle);
        }

        var kernel = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Seccomp:", StringComparison.Ordinal)) is not null;
        var version = HostProbe.DebianPackageVersion("libseccomp2") ?? (loaded ? "libseccomp.so.2" : "");
        return loaded && kernel
            ? new HostCheck("seccomp", CheckStatus.Found, version, "", UsedFor)
            : new HostCheck("seccomp", loaded ? CheckStatus.Limited : CheckStatus.Missing, kernel ? version : "kernel without seccomp", $"{Apt} libseccomp2", UsedFor);
    }

    private static HostCheck CheckIpykernel()
    {
        const string UsedFor = "the Python kernel";
        var output = HostProbe.Run("/usr/bin/python3", ["-c", "import sys, ipykernel; print(sys.version.split()[0], 'ipykernel', ipykernel.__version__)"]);
        if (output is not null && output.Contains("ipykernel", StringComparison.Ordinal) && !output.Contains("Error", StringComparison.Ordinal))
        {
            var parts = output.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return new HostCheck("Python 3 + ipykernel", CheckStatus.Found, $"{parts[0]}, ipykernel {parts[^1]}", "", UsedFor);
        }

        var python = HostProbe.Run("/usr/bin/python3", ["--version"]);
        return new HostCheck("Python 3 + ipykernel", python is null ? CheckStatus.Missing : CheckStatus.Limited,
            python is null ? "" : HostProbe.FirstLine(python) + ", no ipykernel", $"{Apt} python3 python3-ipykernel", UsedFor);
    }

    private static HostCheck CheckPostgres()
    {
        var server = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "postgres")).FirstOrDefault(File.Exists)
            : null;
        var output = HostProbe.Run(server ?? "postgres", ["--version"]);
        return output is null
            ? new HostCheck("PostgreSQL", CheckStatus.Missing, "", $"{Apt} postgresql", "the shared store for many nodes (optional)")
            : new HostCheck("PostgreSQL", CheckStatus.Found, HostProbe.FirstLine(output), "", "the shared store for many nodes (optional)");
    }

    private const uint KvmGetApiVersion = 0xAE00;
    private const uint KvmCreateVm = 0xAE01;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, uint request, nint argument);

    private static HostCheck CheckKvm()
    {
        const string UsedFor = "the microVM backend";
        if (!File.Exists("/dev/kvm"))
        {
            return new HostCheck("KVM", CheckStatus.Missing, "no /dev/kvm", "enable virtualization (or nested virtualization) for this machine", UsedFor);
        }

        try
        {
            using var kvm = File.OpenHandle("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            var fd = (int)kvm.DangerousGetHandle();
            var api = ioctl(fd, KvmGetApiVersion, 0);
            var vm = ioctl(fd, KvmCreateVm, 0);
            if (vm < 0)
            {
                return new HostCheck("KVM", CheckStatus.Limited, $"API {api}, but creating a VM fails", "enable nested virtualization for this machine", UsedFor);
            }

            using var vmHandle = new SafeFileHandle(vm, ownsHandle: true);
            return new HostCheck("KVM", CheckStatus.Found, $"API {api}, VM creation works", "", UsedFor);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return new HostCheck("KVM", CheckStatus.Limited, "/dev/kvm cannot be opened", "add the user to the kvm group", UsedFor);
        }
    }
}
