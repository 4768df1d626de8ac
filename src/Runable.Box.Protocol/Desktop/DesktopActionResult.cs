namespace Runable.Box.Protocol.Desktop;

/// <summary>The result of <c>POST /desktop/actions</c>.</summary>
public sealed record DesktopActionResult
{
    /// <summary>True when the action ran.</summary>
    public bool Ok { get; init; } = true;

    /// <summary>A PNG of the whole screen, base64, when the action was <c>screenshot</c> or <c>screenshot_after</c> was asked.</summary>
    public string? Screenshot { get; init; }

    /// <summary>The pointer's position <c>[x, y]</c> after the action.</summary>
    public IReadOnlyList<int>? Cursor { get; init; }

    /// <summary>The screen's width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>The screen's height in pixels.</summary>
    public int Height { get; init; }
}
