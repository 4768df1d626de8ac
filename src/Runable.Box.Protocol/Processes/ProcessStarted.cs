namespace Runable.Box.Protocol.Processes;

/// <summary>The handle of a process just started.</summary>
public sealed record ProcessStarted
{
    public required string ProcessId { get; init; }

    /// <summary>The operating-system process id (also its process group id).</summary>
    public int Pid { get; init; }
}
