using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Runable.Box.Client;
using Runable.Box.Protocol.Shell;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Sandboxes;
using Runable.Sandboxes.Bubblewrap;

namespace Runable.Orchestrator.Tests;

/// <summary>
/// Runs the attacks of SECURITY.md from inside bubblewrap sandboxes through the orchestrator's public API
/// (sandboxes created with <c>POST /v1/sandboxes</c>, commands run through the box proxy) and prints a table
/// attack / expected / observed to <c>artifacts/abuse/bubblewrap.md</c>. Every attack must be contained, and
/// the orchestrator must keep answering throughout.
/// </summary>
public sealed class AbuseSuiteTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly object Allowlisted = new
    {
        network = new { mode = "allowlist", allow = new[] { "allowed.test", "*.wild.test", "private.test", "metadata.test", "orchestrator.test" } },
    };

    private sealed record Attack(string Name, string Expected, string Command, Func<ShellExecResult, bool> Contained, object? Request = null,
        double TimeoutS = 30, Func<string, bool>? After = null);

    [Fact]
    public async Task AbuseSuite_EveryAttackIsContained_AndTheOrchestratorKeepsAnswering()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var hostPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        var key = await CreateKeyAsync("attacker");
        var otherKey = await CreateKeyAsync("victim");
        using var api = orchestrator.Client(key);
        var victim = await CreateSandboxAsync(orchestrator.Client(otherKey), new { });
        var victimSandbox = Sandboxes.Find(new Caller("k", "victim", new HashSet<string>()), victim);
        await File.WriteAllTextAsync(Path.Combine(victimSandbox.Workspace, "theirs.txt"), "other tenant's secret", Ct);
        var python = "/usr/bin/python3";
        var web = orchestrator.WebPort;
        var backend = orchestrator.Services.GetRequiredService<BubblewrapBackend>();
        const string Status = "-sS -o /dev/null -w 'status=%{http_code}\\n' --max-time 10 2>&1; echo exit=$?";

        Attack[] attacks =
        [
            new("read /etc/shadow", "no such file", "cat /etc/shadow", r => r.ExitCode != 0 && !r.Stdout.Contains("root:")),
            new("read the host's /root and /home", "not visible", "ls -A /root /home 2>&1; ls / ", r => !r.Stdout.Contains("root\n") && !r.Stdout.Contains("home\n")),
            new("read the orchestrator's data directory and database", "not visible",
                $"ls {orchestrator.DataDirectory} 2>&1; cat {orchestrator.DataDirectory}/runable.db 2>&1 | head -c 200",
                r => r.Stdout.Contains("No such file") && !r.Stdout.Contains("SQLite")),
            new("read another sandbox's workspace and socket", "not visible", $"cat {victimSandbox.Workspace}/theirs.txt {victimSandbox.BoxSocket} 2>&1",
                r => !r.Stdout.Contains("secret") && r.Stdout.Contains("No such file")),
            new("read the host's /proc/1/environ and processes", "own pid namespace only", "cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'",
                r => r.Stdout.Contains("bwrap") && int.Parse(r.Stdout.Trim().Split('\n')[^1]) < 20),
            new("read the box's token from any process (cmdline, environ, mem, fd)", "not there; the box's own process is closed",
                "for p in /proc/[0-9]*; do cat $p/cmdline $p/environ; head -c 1M $p/mem; ls -l $p/fd; done 2>&1 | tr '\\0' '\\n'; " +
                "b=$(grep -l runable-box /proc/[0-9]*/cmdline | tail -1 | cut -d/ -f3); cat /proc/$b/environ 2>&1",
                r => r.Stdout.Contains("Permission denied")),
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
                _ => true, new { limits = new { pids = 128 } }, After: id => backend.WorkloadProcesses(id).Count <= 128),
            new("allocate 4 GB under a 512 MB limit", "killed inside", $"{python} -c 'b = bytearray(4 * 1024**3); b[::4096] = b\"x\" * len(b[::4096]); print(\"allocated\")'",
                r => !r.Stdout.Contains("allocated"), new { limits = new { memory_mb = 512 } }),
            new("fill /tmp", "no space left", "head -c 200M /dev/zero 2>&1 > /tmp/fill; echo exit=$?; du -m /tmp/fill | cut -f1",
                r => r.Stdout.Contains("No space left") && int.Parse(r.Stdout.Trim().Split('\n')[^1]) <= 64, new { limits = new { tmp_mb = 64 } }),
            new("print 1 GB", "capped inline, box stays up", "head -c 1G /dev/zero | tr '\\0' x", r => r.Truncated && r.Stdout.Length < 70 * 1024, TimeoutS: 120),
            new("reach the orchestrator's port", "no route out", $"timeout 3 bash -c 'echo hi > /dev/tcp/127.0.0.1/{orchestrator.Port}' 2>&1; echo exit=$?", r => !r.Stdout.Contains("exit=0")),
            new("reach a service on the host's loopback", "no route out", $"timeout 3 bash -c 'echo hi > /dev/tcp/127.0.0.1/{hostPort}' 2>&1; echo exit=$?", r => !r.Stdout.Contains("exit=0")),
            new("reach the cloud metadata address", "no route out", "timeout 3 bash -c 'echo hi > /dev/tcp/169.254.169.254/80' 2>&1; echo exit=$?", r => !r.Stdout.Contains("exit=0")),
            new("network none: fetch an allowlisted name", "no proxy, no route", $"curl -sS --max-time 5 http://allowed.test:{web}/ 2>&1; echo exit=$?",
                r => !r.Stdout.Contains("hello") && !r.Stdout.Contains("exit=0")),
            new("egress: an allowlisted name (HTTP)", "answered", $"curl -sS --max-time 10 http://allowed.test:{web}/ 2>&1", r => r.Stdout.Contains("hello from allowed.test"), Allowlisted),
            new("egress: an allowlisted name (CONNECT tunnel)", "answered", $"curl -sS -p --max-time 10 http://allowed.test:{web}/ 2>&1", r => r.Stdout.Contains("hello from allowed.test"), Allowlisted),
            new("egress: a name under an allowlisted wildcard", "answered", $"curl -sS --max-time 10 http://api.wild.test:{web}/ 2>&1", r => r.Stdout.Contains("hello from api.wild.test"), Allowlisted),
            new("egress: a name not on the allowlist", "403", $"curl http://denied.test:{web}/ {Status}", r => r.Stdout.Contains("status=403"), Allowlisted),
            new("egress: an IP literal", "403", $"curl --noproxy '' http://127.0.0.1:{web}/ {Status}", r => r.Stdout.Contains("status=403"), Allowlisted),
            new("egress: CONNECT to an IP literal", "403", $"curl --noproxy '' -p http://127.0.0.1:{web}/ {Status}", r => r.Stdout.Contains("403") && !r.Stdout.Contains("hello"), Allowlisted),
            new("egress: CONNECT to a name resolving to a private address", "403", $"curl -p https://private.test/ {Status}", r => r.Stdout.Contains("403"), Allowlisted),
            new("egress: a name resolving to 169.254.169.254", "403", $"curl http://metadata.test/latest/meta-data/ {Status}", r => r.Stdout.Contains("status=403"), Allowlisted),
            new("egress: the orchestrator's port by an allowlisted name", "403", $"curl http://orchestrator.test:{orchestrator.Port}/health {Status}", r => r.Stdout.Contains("status=403"), Allowlisted),
            new("egress: bypass the proxy with direct TCP", "no route out", $"timeout 3 bash -c 'echo hi > /dev/tcp/127.0.0.1/{web}' 2>&1; echo exit=$?", r => !r.Stdout.Contains("exit=0"), Allowlisted),
            new("egress: replace the proxy's socket", "read-only", "rm -f /run/net/egress.sock 2>&1; ls /run/net", r => r.Stdout.Contains("egress.sock"), Allowlisted),
        ];

        var table = new StringBuilder("| attack | expected | observed | orchestrator answered | contained |\n|---|---|---|---|---|\n");
        var failures = new List<string>();
        foreach (var attack in attacks)
        {
            var id = await CreateSandboxAsync(api, attack.Request ?? new { });
            try
            {
                await RunAttackAsync(attack, id, key, table, failures, backend);
            }
            catch (Exception e) when (e is Box.Protocol.BoxException or HttpRequestException)
            {
                failures.Add($"{attack.Name}: {e.Message} | box output: {backend.RecentOutput(id)}");
                table.Append($"| {attack.Name} | {attack.Expected} | error: {Shorten(e.Message)} | | NO |\n");
            }
            finally
            {
                await api.DeleteAsync($"v1/sandboxes/{id}", Ct);
            }
        }

        var report = table.ToString();
        TestContext.Current.SendDiagnosticMessage(report);
        var directory = Path.Combine(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!, "..", "..", "abuse");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "bubblewrap.md"), report, Ct);
        Assert.True(failures.Count == 0, "Attacks not contained:\n" + string.Join('\n', failures) + "\n" + report);
    }

    private SandboxService Sandboxes => orchestrator.Services.GetRequiredService<SandboxService>();

    private async Task RunAttackAsync(Attack attack, string id, string key, StringBuilder table, List<string> failures, BubblewrapBackend backend)
    {
        using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), key);
        var attackTask = box.ExecAsync(new ShellExecRequest { Command = attack.Command, TimeoutS = attack.TimeoutS, OnTimeout = OnTimeout.Kill }, Ct);

        // While the attack runs, the orchestrator answers other callers.
        var slowest = TimeSpan.Zero;
        using var probe = orchestrator.Client(orchestrator.AdminKey);
        while (!attackTask.IsCompleted)
        {
            var watch = Stopwatch.StartNew();
            (await probe.GetAsync("v1/sandboxes", Ct)).EnsureSuccessStatusCode();
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            await Task.WhenAny(attackTask, Task.Delay(100, Ct));
        }

        var result = await attackTask;
        var processes = backend.Processes(id).Count;
        var alive = await RecoveredAsync(box);
        var responsive = slowest < TimeSpan.FromSeconds(2);
        // Whatever the attack, the sandbox's box token never shows in what its commands can see.
        var token = Sandboxes.Find(new Caller("k", "attacker", new HashSet<string>()), id).BoxToken;
        var tokenHidden = !(result.Stdout + result.Stderr).Contains(token, StringComparison.Ordinal);
        var contained = attack.Contained(result) && (attack.After?.Invoke(id) ?? true) && alive.Stdout == "alive\n" && responsive && tokenHidden;
        var observed = $"exit {result.ExitCode}, {processes} processes: {Shorten(result.Stdout + result.Stderr)}";
        table.Append($"| {attack.Name} | {attack.Expected} | {observed.Replace("|", "\\|", StringComparison.Ordinal)} | within {slowest.TotalMilliseconds:F0} ms | {(contained ? "yes" : "NO")} |\n");
        if (!contained)
        {
            failures.Add($"{attack.Name}: {observed}; slowest orchestrator answer {slowest.TotalMilliseconds:F0} ms; token hidden: {tokenHidden}");
        }
    }

    /// <summary>The box answers again once the attack's processes are gone (a fork bomb may starve it for a moment).</summary>
    private static async Task<ShellExecResult> RecoveredAsync(BoxClient box)
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

    private async Task<string> CreateSandboxAsync(HttpClient client, object request)
    {
        using var response = await client.PostAsJsonAsync("v1/sandboxes", request, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private async Task<string> CreateKeyAsync(string tenant)
    {
        using var admin = orchestrator.Client(orchestrator.AdminKey);
        using var response = await admin.PostAsJsonAsync("v1/keys", new { name = tenant, scopes = new[] { "sandboxes" }, tenant }, Ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("key").GetString()!;
    }

    private static string Shorten(string text)
    {
        var flat = text.Replace('\n', ' ').Trim();
        return flat.Length > 90 ? flat[..90] + "…" : flat;
    }
}
