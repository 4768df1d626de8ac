using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Runable.Sandboxes.Cgroups;
using Runable.Sandboxes.Network;
using Runable.Sandboxes.Seccomp;

namespace Runable.Sandboxes.Bubblewrap;

/// <summary>
/// Sandboxes made of Linux namespaces with bubblewrap, a seccomp filter and cgroup limits, each running the
/// box server on a unix socket in a host directory bound into it. Starts in milliseconds; the default backend.
/// </summary>
public sealed partial class BubblewrapBackend : ISandboxBackend, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Running> _sandboxes = new(StringComparer.Ordinal);
    private readonly BubblewrapOptions _options;
    private readonly ILogger<BubblewrapBackend> _logger;
    private readonly TimeProvider _time;
    private readonly EgressProxy? _egress;

    /// <summary>Creates the backend; sandboxes with a network policy other than none need <paramref name="egress"/>.</summary>
    public BubblewrapBackend(BubblewrapOptions options, ILogger<BubblewrapBackend> logger, TimeProvider? time = null, EgressProxy? egress = null)
    {
        _options = options;
        _egress = egress;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(options.StateDirectory);
        File.SetUnixFileMode(options.StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    public string Name => "bubblewrap";

    public async Task<Sandbox> CreateAsync(SandboxSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var id = "sbx_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        var directory = Path.Combine(_options.StateDirectory, id);
        if (spec.Network.Mode != NetworkMode.None && _egress is null)
        {
            throw new InvalidOperationException($"Network '{spec.Network}' needs the egress proxy, which this backend was created without.");
        }

        try
        {
            Launch(id, token, directory, spec);
        }
        catch
        {
            // Nothing of a sandbox that did not start stays behind: not its proxy socket, cgroups or directory.
            if (_egress is not null)
            {
                await _egress.StopAsync(id).ConfigureAwait(false);
            }

            await SandboxCgroup.Attach(id, _options.CgroupRoot).KillAndRemoveAsync(CancellationToken.None).ConfigureAwait(false);

            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            throw;
        }

        var running = _sandboxes[id];
        try
        {
            await WaitUntilReadyAsync(running, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DestroyAsync(id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        LogCreated(_logger, id, running.Cgroup.Version, spec.Network.ToString());
        return running.Sandbox;
    }

    /// <summary>Makes the sandbox's directories, proxy socket and cgroups, and starts bwrap in them.</summary>
    private void Launch(string id, string token, string directory, SandboxSpec spec)
    {
        var boxDirectory = Path.Combine(directory, "box");
        Directory.CreateDirectory(boxDirectory);
        var workspace = spec.Workspace ?? Path.Combine(directory, "workspace");
        Directory.CreateDirectory(workspace);
        BubblewrapArguments.WriteEtc(directory);
        var filter = Path.Combine(directory, "seccomp.bpf");
        SeccompFilter.Write(filter);
        string? egressDirectory = null;
        if (spec.Network.Mode != NetworkMode.None)
        {
            egressDirectory = Path.Combine(directory, "net");
            Directory.CreateDirectory(egressDirectory);
            _egress!.Start(id, spec.Network, Path.Combine(egressDirectory, BubblewrapArguments.EgressSocketName));
        }

        var cgroup = SandboxCgroup.Create(id, spec.Limits, _options.CgroupRoot);

        // A small shell joins the sandbox's cgroups before it becomes bwrap, so no process of the sandbox ever
        // runs outside them; it opens the filter on the descriptor bwrap reads it from.
        var info = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"for f in $RUNABLE_CGROUP_PROCS; do echo $$ > \"$f\" || exit 111; done; exec \"$RUNABLE_BWRAP\" \"$@\" {BubblewrapArguments.SeccompFd}<\"$RUNABLE_SECCOMP\"");
        info.ArgumentList.Add("sh");
        foreach (var argument in BubblewrapArguments.Build(directory, workspace, _options.RunableDirectory, spec.Limits, cgroup.WorkProcsFiles, egressDirectory,
            _options.PublicBoxPath?.Replace("{id}", id, StringComparison.Ordinal)))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/bin:/bin";
        info.Environment["RUNABLE_CGROUP_PROCS"] = string.Join(' ', cgroup.ProcsFiles);
        info.Environment["RUNABLE_BWRAP"] = _options.Bwrap;
        info.Environment["RUNABLE_SECCOMP"] = filter;

        var process = SpawnThread.Start(info);

        // The box reads its token from standard input, which is then at its end: no copy stays readable to the
        // sandbox's commands (a command line or an environment would, through /proc).
        process.StandardInput.Write(token + "\n");
        process.StandardInput.Close();
        var log = new SandboxLog();
        _ = PumpAsync(process.StandardOutput, log);
        _ = PumpAsync(process.StandardError, log);
        var sandbox = new Sandbox
        {
            Id = id,
            BoxSocket = Path.Combine(boxDirectory, "box.sock"),
            BoxToken = token,
            Workspace = workspace,
            CreatedAt = _time.GetUtcNow(),
            Pid = process.Id,
        };
        _sandboxes[id] = new Running(sandbox, process, cgroup, directory, spec.Workspace is null, log);
    }

    public bool IsRunning(string sandboxId) => _sandboxes.TryGetValue(sandboxId, out var running) && !running.Process.HasExited;

    /// <summary>The sandboxes this backend runs.</summary>
    public IReadOnlyList<Sandbox> List() => _sandboxes.Values.Select(r => r.Sandbox).ToList();

    /// <summary>The last lines the sandbox's box server printed (its errors), for diagnosis.</summary>
    public string RecentOutput(string sandboxId) =>
        _sandboxes.TryGetValue(sandboxId, out var running) ? running.Log.ToString() : "";

    /// <summary>The processes of a sandbox, as host pids (for tests and metrics).</summary>
    public IReadOnlyList<int> Processes(string sandboxId) =>
        _sandboxes.TryGetValue(sandboxId, out var running) ? running.Cgroup.Processes() : [];

    /// <summary>The processes of a sandbox's workload (its commands, without the box server), as host pids.</summary>
    public IReadOnlyList<int> WorkloadProcesses(string sandboxId) =>
        _sandboxes.TryGetValue(sandboxId, out var running) ? running.Cgroup.WorkloadProcesses() : [];

    public async Task DestroyAsync(string sandboxId, CancellationToken cancellationToken = default)
    {
        if (!_sandboxes.TryRemove(sandboxId, out var running))
        {
            return;
        }

        await running.Cgroup.KillAndRemoveAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            running.Process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone with its cgroup.
        }

        await running.Process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        running.Process.Dispose();
        if (_egress is not null)
        {
            await _egress.StopAsync(sandboxId).ConfigureAwait(false);
        }

        if (Directory.Exists(running.Directory))
        {
            Directory.Delete(running.Directory, recursive: true);
        }
        LogDestroyed(_logger, sandboxId);
    }

    /// <summary>
    /// Removes what a crashed run left behind: every sandbox of this state directory that this backend does not
    /// run now has the processes of its cgroups killed, and its cgroups and directory deleted. Call at start.
    /// </summary>
    public async Task<int> CleanOrphansAsync(CancellationToken cancellationToken = default)
    {
        // Only sandboxes of this state directory: other backends on the host own theirs.
        var orphans = Directory.GetDirectories(_options.StateDirectory).Select(Path.GetFileName).OfType<string>()
            .Where(id => id.StartsWith("sbx_", StringComparison.Ordinal) && !_sandboxes.ContainsKey(id))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var id in orphans)
        {
            await SandboxCgroup.Attach(id, _options.CgroupRoot).KillAndRemoveAsync(cancellationToken).ConfigureAwait(false);
            var directory = Path.Combine(_options.StateDirectory, id);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            LogOrphanRemoved(_logger, id);
        }

        return orphans.Count;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _sandboxes.Keys.ToList())
        {
            await DestroyAsync(id).ConfigureAwait(false);
        }
    }

    private async Task WaitUntilReadyAsync(Running running, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _options.StartTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (running.Process.HasExited)
            {
                throw new InvalidOperationException(
                    $"The sandbox exited during start (code {running.Process.ExitCode}): {running.Log}");
            }

            if (File.Exists(running.Sandbox.BoxSocket) && await AnswersAsync(running.Sandbox.BoxSocket, cancellationToken).ConfigureAwait(false))
            {
                // One command end to end (process start, spools), so the sandbox's first real call is as fast as any.
                const string Body = "{\"command\":\"true\"}";
                await RequestAsync(running.Sandbox.BoxSocket,
                    $"POST /shell/exec HTTP/1.1\r\nHost: box\r\nX-API-Key: {running.Sandbox.BoxToken}\r\nContent-Type: application/json\r\n" +
                    $"Content-Length: {Body.Length}\r\nConnection: close\r\n\r\n{Body}",
                    cancellationToken).ConfigureAwait(false);
                return;
            }

            if (_time.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"The sandbox's box server did not answer within {_options.StartTimeout.TotalSeconds} s: {running.Log}");
            }

            await Task.Delay(2, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// True once the box answers <c>GET /health</c> on its socket. A real request, not just a connect: it also
    /// warms the server's request path, so the sandbox's first real call is fast.
    /// </summary>
    private static async Task<bool> AnswersAsync(string socketPath, CancellationToken cancellationToken) =>
        await RequestAsync(socketPath, "GET /health HTTP/1.1\r\nHost: box\r\nConnection: close\r\n\r\n", cancellationToken).ConfigureAwait(false);

    /// <summary>Sends one raw HTTP/1.1 request over the box's socket; true when it answers 200.</summary>
    private static async Task<bool> RequestAsync(string socketPath, string request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(request), timeout.Token).ConfigureAwait(false);
            var buffer = new byte[64];
            var read = await socket.ReceiveAsync(buffer, timeout.Token).ConfigureAwait(false);
            return read > 12 && System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("HTTP/1.1 200", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task PumpAsync(StreamReader reader, SandboxLog log)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            log.Add(line);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created sandbox {SandboxId} (cgroup {CgroupVersion}, network {Network})")]
    private static partial void LogCreated(ILogger logger, string sandboxId, string cgroupVersion, string network);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destroyed sandbox {SandboxId}")]
    private static partial void LogDestroyed(ILogger logger, string sandboxId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed sandbox {SandboxId}, left behind by an earlier run")]
    private static partial void LogOrphanRemoved(ILogger logger, string sandboxId);

    private sealed record Running(Sandbox Sandbox, Process Process, SandboxCgroup Cgroup, string Directory, bool OwnsWorkspace, SandboxLog Log);

    /// <summary>The last lines the sandbox printed outside the box's own logs, for start-up errors.</summary>
    private sealed class SandboxLog
    {
        private readonly Queue<string> _lines = new();

        public void Add(string line)
        {
            lock (_lines)
            {
                _lines.Enqueue(line);
                while (_lines.Count > 60)
                {
                    _lines.Dequeue();
                }
            }
        }

        public override string ToString()
        {
            lock (_lines)
            {
                return string.Join(" | ", _lines);
            }
        }
    }
}
