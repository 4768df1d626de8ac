namespace Runable.Box.Protocol.Processes;

/// <summary>A signal for a process's whole process group: <c>INT</c>, <c>TERM</c>, <c>KILL</c>, <c>HUP</c>, <c>QUIT</c>, <c>USR1</c>, <c>USR2</c>, <c>STOP</c> or <c>CONT</c>.</summary>
public sealed record ProcessSignalRequest
{
    public string? Signal { get; init; }
}
