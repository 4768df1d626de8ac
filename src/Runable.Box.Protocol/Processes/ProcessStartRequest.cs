namespace Runable.Box.Protocol.Processes;

/// <summary>A command for <c>POST /processes</c>, run in the background by <c>bash -c</c>.</summary>
public sealed record ProcessStartRequest
{
    public string? Command { get; init; }

    public string? Cwd { get; init; }

    public Dictionary<string, string>? Env { get; init; }
}
