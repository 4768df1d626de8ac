namespace Runable.Box.Protocol.Processes;

/// <summary>Text for a process's standard input.</summary>
public sealed record ProcessStdinRequest
{
    public string? Data { get; init; }

    /// <summary>Close standard input after writing, so the process sees end of file.</summary>
    public bool? Close { get; init; }
}
