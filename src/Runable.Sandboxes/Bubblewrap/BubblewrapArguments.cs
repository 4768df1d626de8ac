using System.Globalization;
using System.Runtime.InteropServices;

namespace Runable.Sandboxes.Bubblewrap;

/// <summary>
/// The bwrap command line of a sandbox: new user, pid, mount, net, ipc and uts namespaces; uid 1000 with no
/// capabilities; a tmpfs root with an explicit read-only allowlist of system paths; a fresh /proc, a minimal
/// /dev, a size-limited /tmp; the workspace and the box's socket directory read-write.
/// </summary>
public static class BubblewrapArguments
{
    /// <summary>The uid and gid that sandboxed processes run as.</summary>
    public const int SandboxUser = 1000;

    /// <summary>Size of the box's private state tmpfs (output spools), in MiB.</summary>
    public const int BoxStateMb = 160;

    /// <summary>The file descriptor the seccomp program is read from (a single digit: /bin/sh redirects no higher).</summary>
    public const int SeccompFd = 9;

    /// <summary>The loopback port inside a sandbox with network that leads to the egress proxy.</summary>
    public const int EgressPort = 3128;

    /// <summary>The name of the egress proxy's socket in its directory.</summary>
    public const string EgressSocketName = "egress.sock";

    /// <summary>Host paths bound read-only when they exist (directories are bound whole, symlinks recreated).</summary>
    public static readonly IReadOnlyList<string> SystemPaths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

    /// <summary>Files of /etc the tools need; nothing else of the host's /etc is visible.</summary>
    public static readonly IReadOnlyList<string> EtcFiles =
        ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/localtime", "/etc/nsswitch.conf", "/etc/mime.types", "/etc/bash.bashrc", "/etc/inputrc",
        "/etc/matplotlibrc", "/etc/fonts", "/etc/python3", "/etc/jupyter"];

    /// <summary>Builds the arguments for a sandbox whose host directories are given.</summary>
    public static List<string> Build(string sandboxDirectory, string workspace, string runableDirectory, SandboxLimits limits,
        IReadOnlyList<string> workCgroupProcs, string? egressDirectory = null, string? publicBoxPath = null)
    {
        var args = new List<string>
        {
            "--unshare-user", "--uid", $"{SandboxUser}", "--gid", $"{SandboxUser}",
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--disable-userns",
            "--die-with-parent", "--new-session",
            "--cap-drop", "ALL",
            "--hostname", "sandbox",
            "--clearenv",
            "--tmpfs", "/",
        };

        foreach (var path in SystemPaths)
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is { } target)
            {
                args.AddRange(["--symlink", target, path]);
            }
            else if (Directory.Exists(path))
            {
                args.AddRange(["--ro-bind", path, path]);
            }
        }

        args.AddRange(["--dir", "/etc"]);
        foreach (var path in EtcFiles.Where(Path.Exists))
        {
            args.AddRange(["--ro-bind", path, path]);
        }

        args.AddRange(["--ro-bind", Path.Combine(sandboxDirectory, "passwd"), "/etc/passwd"]);
        args.AddRange(["--ro-bind", Path.Combine(sandboxDirectory, "group"), "/etc/group"]);
        args.AddRange(["--ro-bind", Path.Combine(sandboxDirectory, "hosts"), "/etc/hosts"]);

        // The .NET runtime the box runs on, when it lives outside /usr.
        var dotnetRoot = DotnetRoot();
        if (dotnetRoot is not null && !dotnetRoot.StartsWith("/usr/", StringComparison.Ordinal))
        {
            args.AddRange(["--ro-bind", dotnetRoot, dotnetRoot]);
        }

        args.AddRange([
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", ((long)limits.TmpMb * 1024 * 1024).ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp",
            "--dir", "/run",
            // The box's own state (output spools) lives apart from the sandbox's /tmp, so filling /tmp
            // cannot take the box's output with it.
            "--size", ((long)BoxStateMb * 1024 * 1024).ToString(CultureInfo.InvariantCulture), "--tmpfs", "/run/runable",
            "--bind", workspace, "/workspace",
            "--bind", Path.Combine(sandboxDirectory, "box"), "/run/box",
            "--ro-bind", runableDirectory, "/opt/runable",
            "--dir", "/run/runable-cgroup",
            "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "--setenv", "HOME", "/workspace",
            "--setenv", "USER", "runable",
            "--setenv", "LANG", "C.UTF-8",
            "--setenv", "TMPDIR", "/tmp",

            // No __pycache__ in the workspace: it would land in the job's diff, and a .pyc of a file edited twice
            // within a second to the same size is taken for current (its mtime and size match).
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            "--setenv", "DOTNET_CLI_TELEMETRY_OPTOUT", "1",
            "--setenv", "DOTNET_gcServer", "0",
            "--setenv", "DOTNET_GCgen0size", "0x400000",
        ]);
        if (dotnetRoot is not null)
        {
            args.AddRange(["--setenv", "DOTNET_ROOT", dotnetRoot]);
        }

        // The workload cgroups' procs files, so the box can move each command it starts into them.
        for (var i = 0; i < workCgroupProcs.Count; i++)
        {
            args.AddRange(["--bind", workCgroupProcs[i], $"/run/runable-cgroup/{i}"]);
        }

        // The egress proxy's socket directory, read-only: the sandbox can connect to the socket but not replace it.
        // The box bridges a loopback port to it, and the usual proxy variables point every tool there.
        var boxArguments = new List<string>();
        if (egressDirectory is not null)
        {
            var proxy = $"http://127.0.0.1:{EgressPort}";
            args.AddRange(["--ro-bind", egressDirectory, "/run/net"]);
            foreach (var name in (string[])["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"])
            {
                args.AddRange(["--setenv", name, proxy]);
            }

            args.AddRange(["--setenv", "NO_PROXY", "localhost,127.0.0.1,::1", "--setenv", "no_proxy", "localhost,127.0.0.1,::1"]);
            boxArguments.AddRange([$"--Box:EgressSocket=/run/net/{EgressSocketName}", $"--Box:EgressPort={EgressPort}"]);
        }

        args.AddRange([
            "--remount-ro", "/",
            "--chdir", "/workspace",
            "--seccomp", SeccompFd.ToString(CultureInfo.InvariantCulture),
            "--",
            // The token comes on standard input: a command line or an environment is readable from /proc.
            "/opt/runable/runable-box", "--unix-socket", "/run/box/box.sock", "--workspace", "/workspace", "--token-stdin",
            "--Box:StateDirectory=/run/runable",
            "--Box:WorkCgroupDirectory=/run/runable-cgroup",
        ]);
        // Where callers reach this box from outside (the orchestrator's proxy path), so pages the box serves
        // link to the right place.
        if (publicBoxPath is not null)
        {
            boxArguments.Add($"--Box:PublicPath={publicBoxPath}");
        }

        args.AddRange(boxArguments);
        return args;
    }

    /// <summary>The files the sandbox sees as /etc/passwd, /etc/group and /etc/hosts.</summary>
    public static void WriteEtc(string sandboxDirectory)
    {
        File.WriteAllText(Path.Combine(sandboxDirectory, "passwd"),
            $"root:x:0:0:root:/root:/usr/sbin/nologin\nrunable:x:{SandboxUser}:{SandboxUser}:Runable sandbox:/workspace:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
        File.WriteAllText(Path.Combine(sandboxDirectory, "group"), $"root:x:0:\nrunable:x:{SandboxUser}:\nnogroup:x:65534:\n");
        File.WriteAllText(Path.Combine(sandboxDirectory, "hosts"), "127.0.0.1 localhost sandbox\n::1 localhost\n");
    }

    private static string? DotnetRoot()
    {
        // .../dotnet/shared/Microsoft.NETCore.App/<version>/ → .../dotnet
        var runtime = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd('/');
        var root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(runtime)));
        return root is not null && File.Exists(Path.Combine(root, "dotnet")) ? root : null;
    }
}
