namespace Runable.Web.Api;

/// <summary>A sandbox's limits: memory, processes, CPUs and the size of its <c>/tmp</c>.</summary>
public sealed record SandboxLimitsView
{
    public int? MemoryMb { get; init; }

    public int? Pids { get; init; }

    public double? Cpus { get; init; }

    public int? TmpMb { get; init; }
}
