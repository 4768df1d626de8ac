namespace Runable.Sandboxes;

/// <summary>What a sandbox may use. Every limit is enforced by the kernel (cgroups, tmpfs sizes).</summary>
public sealed record SandboxLimits
{
    /// <summary>Memory of all the sandbox's processes together; past it the kernel kills inside the sandbox.</summary>
    public int MemoryMb { get; init; } = 1024;

    /// <summary>Processes and threads at once; a fork bomb stops here.</summary>
    public int Pids { get; init; } = 512;

    /// <summary>CPU time as a number of cores (0.5 = half a core).</summary>
    public double Cpus { get; init; } = 1;

    /// <summary>Size of the private /tmp.</summary>
    public int TmpMb { get; init; } = 256;
}
