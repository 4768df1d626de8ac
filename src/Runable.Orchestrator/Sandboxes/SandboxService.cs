using System.Collections.Concurrent;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Store;
using Runable.Sandboxes;

namespace Runable.Orchestrator.Sandboxes;

/// <summary>Hands out sandboxes to tenants: each belongs to the tenant whose key created it, and no other tenant can see it.</summary>
public sealed class SandboxService(ISandboxBackend backend, SandboxPool pool, OrchestratorStore store) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (string Tenant, Sandbox Sandbox)> _running = new(StringComparer.Ordinal);

    public async Task<SandboxInfo> CreateAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        var sandbox = await pool.ClaimAsync(new SandboxSpec(), cancellationToken).ConfigureAwait(false);
        _running[sandbox.Id] = (caller.Tenant, sandbox);
        store.Execute("INSERT INTO sandboxes (id, tenant, backend, status, created_at) VALUES ($id, $tenant, $backend, 'running', $created)",
            ("$id", sandbox.Id), ("$tenant", caller.Tenant), ("$backend", backend.Name), ("$created", sandbox.CreatedAt.ToString("O")));
        return Info(sandbox);
    }

    public IReadOnlyList<SandboxInfo> List(Caller caller) =>
        _running.Values.Where(r => r.Tenant == caller.Tenant).Select(r => Info(r.Sandbox)).OrderBy(s => s.CreatedAt).ToList();

    public SandboxInfo Get(Caller caller, string id) => Info(Find(caller, id));

    /// <summary>The sandbox with its private connection details, for the proxy.</summary>
    internal Sandbox Find(Caller caller, string id) =>
        _running.TryGetValue(id, out var running) && running.Tenant == caller.Tenant
            ? running.Sandbox
            : throw new OrchestratorException(404, "sandbox_not_found", $"No sandbox '{id}' for this key.");

    public async Task DeleteAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        Find(caller, id);
        _running.TryRemove(id, out _);
        await backend.DestroyAsync(id, cancellationToken).ConfigureAwait(false);
        store.Execute("UPDATE sandboxes SET status = 'destroyed' WHERE id = $id", ("$id", id));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _running.Keys.ToList())
        {
            await backend.DestroyAsync(id).ConfigureAwait(false);
            store.Execute("UPDATE sandboxes SET status = 'destroyed' WHERE id = $id", ("$id", id));
        }

        _running.Clear();
    }

    private SandboxInfo Info(Sandbox sandbox) => new()
    {
        Id = sandbox.Id,
        Status = backend.IsRunning(sandbox.Id) ? "running" : "stopped",
        Backend = backend.Name,
        CreatedAt = sandbox.CreatedAt,
    };
}
