namespace Runable.Box.Protocol.Desktop;

/// <summary>Raw xdotool arguments for <c>POST /xdot/exec</c>, run against the box's desktop.</summary>
public sealed record XdotExecRequest
{
    /// <summary>The arguments, e.g. <c>["getwindowfocus"]</c> or <c>["mousemove", "10", "20", "click", "1"]</c>.</summary>
    public IReadOnlyList<string>? XdotoolArgs { get; init; }
}
