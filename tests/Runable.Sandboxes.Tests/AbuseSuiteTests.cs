using System.Net;
using System.Net.Sockets;
using System.Text;
using Runable.Box.Protocol.Shell;

namespace Runable.Sandboxes.Tests;

/// <summary>
/// Runs the attacks of SECURITY.md (items 1 to 5) from inside bubblewrap sandboxes, through the box, and prints
/// a table attack / expected / observed. Every attack must be contained.
/// </summary>
public sealed class AbuseSuiteTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Attack(string Name, string Expected, string Command, Func<ShellExecResult, bool> Contained, SandboxLimits? Limits = null, double TimeoutS = 30, Func<Sandbox, bool>? After = null);

    [Fact]
    public async Task AbuseSuite_EveryAttackIsContained()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var hostPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        var other = await fixture.Backend.CreateAsync(new SandboxSpec(), Ct);
        await File.WriteAllTextAsync(Path.Combine(other.Workspace, "theirs.txt"), "other tenant's secret", Ct);
        var python = "/usr/bin/python3";

        Attack[] attacks =
        [
            new("read /etc/shadow", "no such file", "cat /etc/shadow", r => r.ExitCode != 0 && !r.Stdout.Contains("root:")),
            new("read the host's /root and /home", "not visible", "ls -A /root /home 2>&1; ls / ", r => !r.Stdout.Contains("root\n") && !r.Stdout.Contains("home\n")),
            new("read the orchestrator's sandbox directory", "not visible", $"ls {fixture.StateDirectory} 2>&1; cat {other.BoxSocket} 2>&1", r => r.Stdout.Contains("No such file")),
            new("read another sandbox's workspace", "not visible", $"cat {other.Workspace}/theirs.txt 2>&1", r => !r.Stdout.Contains("secret")),
            new("read the host's /proc/1/environ and processes", "own pid namespace only", "cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'",
                r => r.Stdout.Contains("bwrap") && int.Parse(r.Stdout.Trim().Split('\n')[^1]) < 20),
            new("write /usr", "read-only", "touch /usr/pwned 2>&1", r => r.ExitCode != 0 && !File.Exists("/usr/pwned")),
            new("write /etc", "read-only", "touch /etc/pwned 2>&1", r => r.ExitCode != 0),
            new("mount a tmpfs", "refused", "mount -t tmpfs none /mnt 2>&1", r => r.ExitCode != 0),
            new("remount a read-only bind writable", "refused", "mount -o remount,rw /usr 2>&1; touch /usr/pwned 2>&1", r => r.ExitCode != 0 && !File.Exists("/usr/pwned")),
            new("ptrace", "EPERM", $"{python} -c 'import ctypes,os; l=ctypes.CDLL(None,use_errno=True); print(l.ptrace(16, 1, 0, 0), ctypes.get_errno())'", r => r.Stdout.Trim() == "-1 1"),
            new("unshare a user namespace", "refused", "unshare -U -r true 2>&1", r => r.ExitCode != 0),
            // Run under `script` so standard input is a real terminal: without one the ioctl would never be tried.
            new("TIOCSTI injection", "EPERM", """
                printf '%s\n' 'import fcntl, termios' 'try:' '    fcntl.ioctl(0, termios.TIOCSTI, b"x"); print("injected")' 'except OSError as e: print("refused", e.errno)' > /tmp/sti.py
                script -qc "/usr/bin/python3 /tmp/sti.py" /dev/null
                """, r => r.Stdout.Contains("refused 1") && !r.Stdout.Contains("injected")),
            new("fork bomb", "stops at the pids limit", "for i in $(seq 1 300); do sleep 3 & done 2>/dev/null; echo tried",
                _ => true, new SandboxLimits { Pids = 128 }, After: s => fixture.Backend.WorkloadProcesses(s.Id).Count <= 128),
            new("allocate 4 GB under a 512 MB limit", "killed inside", $"{python} -c 'b = bytearray(4 * 1024**3); b[::4096] = b\"x\" * len(b[::4096]); print(\"allocated\")'",
                r => !r.Stdout.Contains("allocated"), new SandboxLimits { MemoryMb = 512 }),
            new("fill /tmp", "no space left", "head -c 200M /dev/zero 2>&1 > /tmp/fill; echo exit=$?; du -m /tmp/fill | cut -f1",
                r => r.Stdout.Contains("No space left") && int.Parse(r.Stdout.Trim().Split('\n')[^1]) <= 64, new SandboxLimits { TmpMb = 64 }),
            new("print 1 GB", "capped inline, box stays up", "head -c 1G /dev/zero | tr '\\0' x", r => r.Truncated && r.Stdout.Length < 70 * 1024, TimeoutS: 120),
            new("reach a service on the host's loopback", "no route out", $"timeout 3 bash -c 'echo hi > /dev/tcp/127.0.0.1/{hostPort}' 2>&1; echo exit=$?", r => !r.Stdout.Contains("exit=0")),
            new("reach the cloud metadata address", "no route out", "timeout 3 bash -c 'echo hi > /dev/tcp/169.254.169.254/80' 2>&1; echo exit=$?", r => !r.Stdout.Contains("exit=0")),
        ];

        var table = new StringBuilder("| attack | expected | observed | contained |\n|---|---|---|---|\n");
        var failures = new List<string>();
        foreach (var attack in attacks)
        {
            var sandbox = await fixture.Backend.CreateAsync(new SandboxSpec { Limits = attack.Limits ?? new SandboxLimits() }, Ct);
            try
            {
                await RunAttackAsync(attack, sandbox, table, failures);
            }
            catch (Exception e) when (e is Box.Protocol.BoxException or HttpRequestException)
            {
                failures.Add($"{attack.Name}: {e.Message} | box output: {fixture.Backend.RecentOutput(sandbox.Id)}");
                table.Append($"| {attack.Name} | {attack.Expected} | error: {Shorten(e.Message)} | NO |\n");
            }
            finally
            {
                await fixture.Backend.DestroyAsync(sandbox.Id, Ct);
            }
        }

        await fixture.Backend.DestroyAsync(other.Id, Ct);
        var report = table.ToString();
        TestContext.Current.SendDiagnosticMessage(report);
        Console.WriteLine(report);
        var directory = Path.Combine(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!, "..", "..", "abuse");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "bubblewrap.md"), report, Ct);
        Assert.True(failures.Count == 0, "Attacks not contained:\n" + string.Join('\n', failures) + "\n" + report);
    }

    private async Task RunAttackAsync(Attack attack, Sandbox sandbox, StringBuilder table, List<string> failures)
    {
        using var box = SandboxFixture.Connect(sandbox);
        var result = await box.ExecAsync(new ShellExecRequest { Command = attack.Command, TimeoutS = attack.TimeoutS, OnTimeout = OnTimeout.Kill }, Ct);
        var processes = fixture.Backend.Processes(sandbox.Id).Count;
        var alive = await RecoveredAsync(box);
        var contained = attack.Contained(result) && (attack.After?.Invoke(sandbox) ?? true) && alive.Stdout == "alive\n";
        var observed = $"exit {result.ExitCode}, {processes} processes: {Shorten(result.Stdout + result.Stderr)}";
        table.Append($"| {attack.Name} | {attack.Expected} | {observed.Replace("|", "\\|", StringComparison.Ordinal)} | {(contained ? "yes" : "NO")} |\n");
        if (!contained)
        {
            failures.Add($"{attack.Name}: {observed}");
        }
    }

    /// <summary>The box answers again once the attack's processes are gone (a fork bomb may starve it for a moment).</summary>
    private static async Task<ShellExecResult> RecoveredAsync(Box.Client.BoxClient box)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await box.ExecAsync(new ShellExecRequest { Command = "echo alive", TimeoutS = 10 }, Ct);
            }
            catch (HttpRequestException) when (attempt < 20)
            {
                await Task.Delay(500, Ct);
            }
        }
    }

    private static string Shorten(string text)
    {
        var flat = text.Replace('\n', ' ').Trim();
        return flat.Length > 80 ? flat[..80] + "…" : flat;
    }
}
