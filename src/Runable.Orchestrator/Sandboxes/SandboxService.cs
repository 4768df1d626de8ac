using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Store;
using Runable.Sandboxes;

namespace Runable.Orchestrator.Sandboxes;

/// <summary>
/// Hands out sandboxes to tenants: each belongs to the tenant whose key created it, and no other tenant can see
/// it. Tracks each sandbox's activity (requests through the proxy, open connections) and destroys the ones
/// idle past their timeout.
/// </summary>
public sealed partial class SandboxService(ISandboxBackend backend, SandboxPool pool, OrchestratorStore store, TimeProvider time,
    ILogger<SandboxService> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Entry> _running = new(StringComparer.Ordinal);
    private long _created;
    private readonly ConcurrentDictionary<string, long> _destroyed = new(StringComparer.Ordinal);

    /// <summary>Sandboxes created since start.</summary>
    public long CreatedCount => Interlocked.Read(ref _created);

    /// <summary>Sandboxes destroyed since start, by reason (<c>deleted</c>, <c>idle</c>, <c>shutdown</c>).</summary>
    public IReadOnlyDictionary<string, long> DestroyedCounts => _destroyed;

    /// <summary>How many sandboxes run now, and how many of those have exited on their own.</summary>
    public (int Running, int Exited) Counts()
    {
        var exited = _running.Keys.Count(id => !backend.IsRunning(id));
        return (_running.Count - exited, exited);
    }

    public async Task<SandboxInfo> CreateAsync(Caller caller, CreateSandboxRequest request, CancellationToken cancellationToken = default)
    {
        var (spec, idleTimeout) = request.Validate(backend.Name);
        var sandbox = await pool.ClaimAsync(spec, cancellationToken).ConfigureAwait(false);
        var entry = new Entry(caller.Tenant, sandbox, spec, idleTimeout, time.GetTimestamp());
        _running[sandbox.Id] = entry;
        Interlocked.Increment(ref _created);
        store.Execute("INSERT INTO sandboxes (id, tenant, backend, status, created_at, spec) VALUES ($id, $tenant, $backend, 'running', $created, $spec)",
            ("$id", sandbox.Id), ("$tenant", caller.Tenant), ("$backend", backend.Name), ("$created", sandbox.CreatedAt.ToString("O")),
            ("$spec", JsonSerializer.Serialize(new { limits = spec.Limits, network = spec.Network.ToString(), idle_timeout_s = idleTimeout?.TotalSeconds })));
        return Info(entry);
    }

    public IReadOnlyList<SandboxInfo> List(Caller caller) =>
        _running.Values.Where(r => r.Tenant == caller.Tenant).Select(Info).OrderBy(s => s.CreatedAt).ToList();

    public SandboxInfo Get(Caller caller, string id) => Info(FindEntry(caller, id));

    /// <summary>The sandbox with its private connection details, for the proxy.</summary>
    internal Sandbox Find(Caller caller, string id) => FindEntry(caller, id).Sandbox;

    /// <summary>The caller's running sandbox <paramref name="id"/>, if there is one.</summary>
    internal bool TryFind(Caller caller, string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Sandbox? sandbox)
    {
        sandbox = _running.TryGetValue(id, out var entry) && entry.Tenant == caller.Tenant ? entry.Sandbox : null;
        return sandbox is not null;
    }

    /// <summary>Marks the sandbox busy until the returned scope ends (a proxied request, an open WebSocket).</summary>
    internal IDisposable Activity(Caller caller, string id)
    {
        var entry = FindEntry(caller, id);
        Interlocked.Increment(ref entry.InFlight);
        Interlocked.Exchange(ref entry.LastActive, time.GetTimestamp());
        return new ActivityScope(entry, time);
    }

    public async Task DeleteAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        FindEntry(caller, id);
        await DestroyAsync(id, "deleted", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Destroys every sandbox idle for longer than its timeout, and those whose processes ended; returns how many.</summary>
    public async Task<int> ReapAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetTimestamp();
        var reaped = 0;
        foreach (var (id, entry) in _running)
        {
            var idle = entry.IdleTimeout is { } timeout && Volatile.Read(ref entry.InFlight) == 0
                && time.GetElapsedTime(Interlocked.Read(ref entry.LastActive), now) > timeout;
            if (idle || !backend.IsRunning(id))
            {
                LogReaped(logger, id, idle ? "idle" : "exited");
                await DestroyAsync(id, idle ? "idle" : "exited", cancellationToken).ConfigureAwait(false);
                reaped++;
            }
        }

        return reaped;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _running.Keys.ToList())
        {
            await DestroyAsync(id, "shutdown", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task DestroyAsync(string id, string reason, CancellationToken cancellationToken)
    {
        if (!_running.TryRemove(id, out _))
        {
            return;
        }

        await backend.DestroyAsync(id, cancellationToken).ConfigureAwait(false);
        _destroyed.AddOrUpdate(reason, 1, (_, n) => n + 1);
        store.Execute("UPDATE sandboxes SET status = 'destroyed', destroyed_at = $at, reason = $reason WHERE id = $id",
            ("$id", id), ("$at", time.GetUtcNow().ToString("O")), ("$reason", reason));
        Destroyed?.Invoke(id);
    }

    /// <summary>Raised after a sandbox is destroyed, for whatever holds resources of it (the proxy's connections).</summary>
    public event Action<string>? Destroyed;

    private Entry FindEntry(Caller caller, string id) =>
        _running.TryGetValue(id, out var entry) && entry.Tenant == caller.Tenant
            ? entry
            : throw new OrchestratorException(404, "sandbox_not_found", $"No sandbox '{id}' for this key.");

    private SandboxInfo Info(Entry entry) => new()
    {
        Id = entry.Sandbox.Id,
        Status = backend.IsRunning(entry.Sandbox.Id) ? "running" : "exited",
        Backend = backend.Name,
        CreatedAt = entry.Sandbox.CreatedAt,
        Limits = entry.Spec.Limits,
        Network = new NetworkRequest(entry.Spec.Network.Mode.ToString().ToLowerInvariant(), entry.Spec.Network.Allow.Count > 0 ? entry.Spec.Network.Allow : null),
        IdleTimeoutS = entry.IdleTimeout?.TotalSeconds,
        LastActiveAt = time.GetUtcNow() - time.GetElapsedTime(Interlocked.Read(ref entry.LastActive)),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Reaping sandbox {SandboxId} ({Reason})")]
    private static partial void LogReaped(ILogger logger, string sandboxId, string reason);

    private sealed class Entry(string tenant, Sandbox sandbox, SandboxSpec spec, TimeSpan? idleTimeout, long lastActive)
    {
        public int InFlight;
        public long LastActive = lastActive;

        public string Tenant { get; } = tenant;

        public Sandbox Sandbox { get; } = sandbox;

        public SandboxSpec Spec { get; } = spec;

        public TimeSpan? IdleTimeout { get; } = idleTimeout;
    }

    private sealed class ActivityScope(Entry entry, TimeProvider time) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Exchange(ref entry.LastActive, time.GetTimestamp());
                Interlocked.Decrement(ref entry.InFlight);
            }
        }
    }
}
