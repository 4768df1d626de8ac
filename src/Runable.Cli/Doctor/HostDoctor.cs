using System.Text.Json;
using System.Text.RegularExpressions;

namespace Runable.Cli.Doctor;

/// <summary>Checks the host for everything Runable uses and says how to fix what is missing. Every check has a
/// deadline and none throws: a check that fails unexpectedly is reported as limited, with the reason.</summary>
public sealed partial class HostDoctor
{
    /// <summary>How long one probe may take.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(3);

    private readonly ProcessRunner _runner;
    private readonly TimeSpan _timeout;
    private readonly string _sudo;

    /// <summary>Creates a doctor that runs its probes through <paramref name="runner"/>.</summary>
    public HostDoctor(ProcessRunner? runner = null, TimeSpan? timeout = null, bool? privileged = null)
    {
        _runner = runner ?? new ProcessRunner();
        _timeout = timeout ?? DefaultTimeout;
        Privileged = privileged ?? Environment.IsPrivilegedProcess;
        _sudo = Privileged ? "" : "sudo ";
    }

    /// <summary>Whether fixes can be run as they are (root) or need <c>sudo</c>.</summary>
    public bool Privileged { get; }

    /// <summary>Runs every check at once and returns them in report order: what the box needs now first.</summary>
    public async Task<IReadOnlyList<HostCheck>> RunAsync(CancellationToken cancellationToken = default)
    {
        var ct = cancellationToken;
        Task<HostCheck>[] checks =
        [
            CheckProgramAsync(new ProgramCheck("bash", "bash", ["--version"], AptInstall("bash"),
                "shell commands and sessions") { Required = true }, ct),
            CheckProgramAsync(new ProgramCheck("setsid (util-linux)", "setsid", ["--version"], AptInstall("util-linux"),
                "a process group for every command") { Required = true }, ct),
            CheckProgramAsync(new ProgramCheck("bubblewrap", "bwrap", ["--version"], AptInstall("bubblewrap"),
                "sandbox isolation (namespaces)"), ct),
            Guarded("cgroups", "sandbox memory, pids and CPU limits", required: false,
                () => Task.Run(() => new CgroupProbe().Check(), ct)),
            Guarded("seccomp", "the sandbox's system-call filter", required: false,
                () => Task.Run(() => new SeccompProbe().Check(AptInstall("libseccomp2")), ct)),
            Guarded("kvm", "microVM sandboxes", required: false,
                () => Task.Run(() => new KvmProbe().Check(Privileged), ct)),
            CheckProgramAsync(new ProgramCheck("Xvfb", "Xvfb", ["-help"], AptInstall("xvfb"),
                "the virtual desktop") { DebianPackage = "xvfb" }, ct),
            CheckProgramAsync(new ProgramCheck("xdotool", "xdotool", ["--version"], AptInstall("xdotool"),
                "desktop mouse and keyboard"), ct),
            CheckProgramAsync(new ProgramCheck("x11vnc", "x11vnc", ["-version"], AptInstall("x11vnc"),
                "watching the desktop live"), ct),
            Guarded("noVNC", "the desktop in a browser", required: false, () => CheckNoVncAsync(ct)),
            CheckProgramAsync(new ProgramCheck("websockify", "websockify", ["--help"], AptInstall("websockify"),
                "VNC over WebSocket") { DebianPackage = "websockify" }, ct),
            CheckProgramAsync(new ProgramCheck("python3", "/usr/bin/python3", ["--version"], AptInstall("python3"),
                "the Python kernel"), ct),
            CheckProgramAsync(new ProgramCheck("ipykernel", "/usr/bin/python3",
                ["-c", "import ipykernel; print(ipykernel.__version__)"], AptInstall("python3-ipykernel"),
                "the Python kernel") { FailureMeansMissing = true }, ct),
            CheckProgramAsync(new ProgramCheck("node", "node", ["--version"], AptInstall("nodejs", "npm"),
                "the TypeScript kernel"), ct),
            Guarded("tslab", "the TypeScript kernel", required: false, () => CheckTslabAsync(ct)),
            CheckProgramAsync(new ProgramCheck("chromium", "/usr/bin/chromium", ["--version"], AptInstall("chromium"),
                "the browser on the desktop"), ct),
            Guarded("postgresql", "shared state for many nodes", required: false, () => CheckPostgresAsync(ct)),
        ];
        return await Task.WhenAll(checks);
    }

    /// <summary>Runs a program's version probe: missing when it cannot start, limited when it hangs or fails.</summary>
    public Task<HostCheck> CheckProgramAsync(ProgramCheck check, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(check);
        return Guarded(check.What, check.UsedFor, check.Required, async () =>
        {
            var outcome = await _runner.RunAsync(check.FileName, check.Arguments, _timeout, cancellationToken);
            if (!outcome.Started)
            {
                return new HostCheck(check.What, CheckStatus.Missing)
                {
                    Detail = $"{check.FileName}: not found",
                    Fix = check.Fix,
                };
            }

            if (outcome.TimedOut)
            {
                return new HostCheck(check.What, CheckStatus.Limited)
                {
                    Detail = $"{check.FileName} did not answer within {_timeout.TotalSeconds:0.#} s",
                };
            }

            if (!outcome.Succeeded)
            {
                return new HostCheck(check.What, check.FailureMeansMissing ? CheckStatus.Missing : CheckStatus.Limited)
                {
                    Detail = $"exited with code {outcome.ExitCode}: {LastLine(outcome.StandardError) ?? LastLine(outcome.StandardOutput)}",
                    Fix = check.Fix,
                };
            }

            var version = check.DebianPackage is { } package
                ? await PackageVersionAsync(package, cancellationToken)
                : ParseVersion(outcome.StandardOutput) ?? ParseVersion(outcome.StandardError);

            return new HostCheck(check.What, CheckStatus.Found)
            {
                Version = version,
                Detail = ResolvePath(check.FileName),
            };
        });
    }

    /// <summary>The first dotted version number in a program's output (<c>5.2.15</c> from
    /// <c>GNU bash, version 5.2.15(1)-release</c>).</summary>
    public static string? ParseVersion(string output)
    {
        var match = VersionPattern().Match(output ?? "");
        return match.Success ? match.Value : null;
    }

    private async Task<HostCheck> CheckNoVncAsync(CancellationToken cancellationToken)
    {
        const string NoVncDirectory = "/usr/share/novnc";
        if (!File.Exists(Path.Combine(NoVncDirectory, "vnc.html")))
        {
            return new HostCheck("noVNC", CheckStatus.Missing)
            {
                Detail = $"{NoVncDirectory}/vnc.html not found",
                Fix = AptInstall("novnc"),
            };
        }

        return new HostCheck("noVNC", CheckStatus.Found)
        {
            Version = await PackageVersionAsync("novnc", cancellationToken),
            Detail = NoVncDirectory,
        };
    }

    private async Task<HostCheck> CheckTslabAsync(CancellationToken cancellationToken)
    {
        var places = new List<string>();
        var global = await _runner.RunAsync("npm", ["root", "-g"], _timeout, cancellationToken);
        if (global.Succeeded && LastLine(global.StandardOutput) is { } globalRoot)
        {
            places.Add(Path.Combine(globalRoot, "tslab"));
        }

        places.AddRange(["/usr/local/lib/node_modules/tslab", "/usr/lib/node_modules/tslab"]);
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            places.Add(Path.Combine(directory.FullName, "node_modules", "tslab"));
        }

        foreach (var place in places.Distinct())
        {
            var manifest = Path.Combine(place, "package.json");
            if (File.Exists(manifest))
            {
                return new HostCheck("tslab", CheckStatus.Found) { Version = PackageJsonVersion(manifest), Detail = place };
            }
        }

        return new HostCheck("tslab", CheckStatus.Missing)
        {
            Detail = global.Started ? "not in the global npm packages nor in a node_modules above this directory" : "npm not found",
            Fix = global.Started ? $"{_sudo}npm install -g tslab" : $"{AptInstall("nodejs", "npm")} && {_sudo}npm install -g tslab",
        };
    }

    private async Task<HostCheck> CheckPostgresAsync(CancellationToken cancellationToken)
    {
        // Debian keeps the server binaries off PATH, one directory per major version; prefer the newest.
        var candidates = new List<string>();
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var major) ? major : 0)
                .Select(d => Path.Combine(d, "bin", "postgres"))
                .Where(File.Exists));
        }

        candidates.AddRange(["postgres", "pg_ctl"]);
        foreach (var candidate in candidates)
        {
            var outcome = await _runner.RunAsync(candidate, ["--version"], _timeout, cancellationToken);
            if (outcome.Succeeded)
            {
                return new HostCheck("postgresql", CheckStatus.Found)
                {
                    Version = ParseVersion(outcome.StandardOutput),
                    Detail = ResolvePath(candidate),
                };
            }
        }

        return new HostCheck("postgresql", CheckStatus.Missing)
        {
            Detail = "no postgres in /usr/lib/postgresql/*/bin nor on PATH",
            Fix = AptInstall("postgresql"),
        };
    }

    private async Task<string?> PackageVersionAsync(string package, CancellationToken cancellationToken)
    {
        var outcome = await _runner.RunAsync("dpkg-query", ["-W", "-f=${Version}", package], _timeout, cancellationToken);
        return outcome.Succeeded ? ParseVersion(outcome.StandardOutput) : null;
    }

    private string AptInstall(params string[] packages) => $"{_sudo}apt-get install -y {string.Join(' ', packages)}";

    private static async Task<HostCheck> Guarded(string what, string usedFor, bool required, Func<Task<HostCheck>> check)
    {
        HostCheck result;
        try
        {
            result = await check();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The report must reach the user even when one probe breaks; the reason is shown, not hidden.
            result = new HostCheck(what, CheckStatus.Limited) { Detail = $"the check failed: {e.GetType().Name}: {e.Message}" };
        }

        return result with { UsedFor = usedFor, Required = required };
    }

    private static string? PackageJsonVersion(string manifest)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(manifest));
            return document.RootElement.TryGetProperty("version", out var version) ? version.GetString() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The full path a program name resolves to on PATH, for the report.</summary>
    private static string? ResolvePath(string fileName)
    {
        if (Path.IsPathRooted(fileName))
        {
            return fileName;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string? LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();

    [GeneratedRegex(@"\d+\.\d+(?:\.\d+)*")]
    private static partial Regex VersionPattern();
}
