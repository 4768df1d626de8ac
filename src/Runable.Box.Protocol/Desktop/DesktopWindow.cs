namespace Runable.Box.Protocol.Desktop;

/// <summary>A visible top-level window of the desktop (<c>GET /desktop/windows</c>); its position and size are those of its content, in screen pixels.</summary>
public sealed record DesktopWindow
{
    /// <summary>The X window id (what xdotool takes).</summary>
    public long Id { get; init; }

    public string Title { get; init; } = "";

    public int X { get; init; }

    public int Y { get; init; }

    public int Width { get; init; }

    public int Height { get; init; }
}
