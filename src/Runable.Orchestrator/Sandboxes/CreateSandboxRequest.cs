using Runable.Orchestrator.Auth;
using Runable.Sandboxes;
using Runable.Sandboxes.Network;

namespace Runable.Orchestrator.Sandboxes;

/// <summary>The body of <c>POST /v1/sandboxes</c>; every field is optional.</summary>
public sealed record CreateSandboxRequest
{
    /// <summary>The isolation backend; <c>bubblewrap</c> (the default) is the one this orchestrator runs.</summary>
    public string? Backend { get; init; }

    public LimitsRequest? Limits { get; init; }

    public NetworkRequest? Network { get; init; }

    /// <summary>Seconds without a request to the sandbox before it is destroyed; 0 keeps it until deleted.</summary>
    public double? IdleTimeoutS { get; init; }

    /// <summary>The default idle timeout: 30 minutes.</summary>
    public const double DefaultIdleTimeoutSeconds = 1800;

    /// <summary>The longest idle timeout: 7 days.</summary>
    public const double MaxIdleTimeoutSeconds = 7 * 86_400;

    /// <summary>Checks the request and turns it into a sandbox spec; bad values are a 400 that says what to fix.</summary>
    public (SandboxSpec Spec, TimeSpan? IdleTimeout) Validate(string backendName)
    {
        if (Backend is not null && Backend != backendName)
        {
            throw Invalid($"Unknown backend '{Backend}': this orchestrator runs '{backendName}'.");
        }

        var defaults = new SandboxLimits();
        var limits = new SandboxLimits
        {
            MemoryMb = InRange(Limits?.MemoryMb ?? defaults.MemoryMb, 64, 262_144, "limits.memory_mb"),
            Pids = InRange(Limits?.Pids ?? defaults.Pids, 16, 65_536, "limits.pids"),
            Cpus = InRange(Limits?.Cpus ?? defaults.Cpus, 0.05, Environment.ProcessorCount, "limits.cpus"),
            TmpMb = InRange(Limits?.TmpMb ?? defaults.TmpMb, 8, 65_536, "limits.tmp_mb"),
        };

        var network = (Network?.Mode ?? "none") switch
        {
            "none" when Network?.Allow is not { Count: > 0 } => NetworkPolicy.None,
            "open" when Network?.Allow is not { Count: > 0 } => NetworkPolicy.Open,
            "none" or "open" => throw Invalid("network.allow is only for mode 'allowlist'."),
            "allowlist" => Allowlist(Network!.Allow),
            var other => throw Invalid($"Unknown network.mode '{other}': use 'none', 'allowlist' or 'open'."),
        };

        var idle = InRange(IdleTimeoutS ?? DefaultIdleTimeoutSeconds, 0, MaxIdleTimeoutSeconds, "idle_timeout_s");
        return (new SandboxSpec { Limits = limits, Network = network }, idle == 0 ? null : TimeSpan.FromSeconds(idle));
    }

    private static NetworkPolicy Allowlist(IReadOnlyList<string>? allow)
    {
        if (allow is not { Count: > 0 })
        {
            throw Invalid("network.mode 'allowlist' needs network.allow: the host names the sandbox may reach.");
        }

        if (allow.Count > 1000)
        {
            throw Invalid("network.allow holds at most 1000 names.");
        }

        try
        {
            return NetworkPolicy.AllowOnly(allow);
        }
        catch (ArgumentException e)
        {
            throw Invalid("network.allow: " + e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static T InRange<T>(T value, T min, T max, string name)
        where T : IComparable<T> =>
        value.CompareTo(min) >= 0 && value.CompareTo(max) <= 0 ? value : throw Invalid($"{name} must be between {min} and {max}.");

    private static OrchestratorException Invalid(string message) => new(400, "invalid_argument", message);
}

/// <summary>The <c>limits</c> of a sandbox request.</summary>
public sealed record LimitsRequest(int? MemoryMb, int? Pids, double? Cpus, int? TmpMb);

/// <summary>The <c>network</c> of a sandbox request.</summary>
public sealed record NetworkRequest(string? Mode, IReadOnlyList<string>? Allow);
