namespace Runable.Box.Protocol.Desktop;

/// <summary>What xdotool printed and its exit code.</summary>
public sealed record XdotExecResult
{
    public string Stdout { get; init; } = "";

    public string Stderr { get; init; } = "";

    public int ExitCode { get; init; }
}
