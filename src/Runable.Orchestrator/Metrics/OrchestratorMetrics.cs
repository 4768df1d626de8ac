using System.Diagnostics;
using Prometheus;
using Runable.Orchestrator.Sandboxes;
using Runable.Sandboxes;
using Runable.Sandboxes.Network;

namespace Runable.Orchestrator.Metrics;

/// <summary>
/// The orchestrator's Prometheus metrics, in a registry of its own (several orchestrators can share a process):
/// sandboxes by state, the warm pool, sandboxes created and destroyed, egress decisions, the process's memory,
/// and, through prometheus-net's middleware, request counts and latencies by route.
/// </summary>
public sealed class OrchestratorMetrics
{
    public OrchestratorMetrics(SandboxService sandboxes, SandboxPool pool, EgressProxy egress)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        Factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        var byState = Factory.CreateGauge("runable_sandboxes", "Sandboxes held now, by state.", ["state"]);
        var ready = Factory.CreateGauge("runable_pool_ready", "Sandboxes started ahead of need and ready to be claimed.");
        var created = Factory.CreateCounter("runable_sandboxes_created_total", "Sandboxes handed out since start.");
        var destroyed = Factory.CreateCounter("runable_sandboxes_destroyed_total", "Sandboxes destroyed since start, by reason.", ["reason"]);
        var egressRequests = Factory.CreateCounter("runable_egress_requests_total", "Requests through the egress proxy, by decision.", ["decision"]);
        var memory = Factory.CreateGauge("runable_process_resident_memory_bytes", "Resident memory of the orchestrator's process.");
        Registry.AddBeforeCollectCallback(() =>
        {
            var (running, exited) = sandboxes.Counts();
            byState.WithLabels("running").Set(running);
            byState.WithLabels("exited").Set(exited);
            ready.Set(pool.ReadyCount);
            created.IncTo(sandboxes.CreatedCount);
            foreach (var (reason, count) in sandboxes.DestroyedCounts)
            {
                destroyed.WithLabels(reason).IncTo(count);
            }

            egressRequests.WithLabels("allowed").IncTo(egress.AllowedCount);
            egressRequests.WithLabels("refused").IncTo(egress.RefusedCount);
            using var self = Process.GetCurrentProcess();
            memory.Set(self.WorkingSet64);
        });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Creates metrics in this registry (for the HTTP middleware).</summary>
    public IMetricFactory Factory { get; }
}
