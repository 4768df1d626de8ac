namespace Runable.Box.Protocol.Desktop;

/// <summary>
/// One computer-use action for <c>POST /desktop/actions</c>: the action set models are trained on
/// (<c>screenshot</c>, <c>left_click</c>, <c>type</c>, <c>key</c>, <c>scroll</c>, ...). Coordinates are screen pixels.
/// </summary>
public sealed record DesktopActionRequest
{
    /// <summary>The action, e.g. <c>left_click</c>; an unknown one is refused with the list of valid ones.</summary>
    public string? Action { get; init; }

    /// <summary><c>[x, y]</c>: where to move, click or scroll; the drag's end for <c>left_click_drag</c>.</summary>
    public IReadOnlyList<int>? Coordinate { get; init; }

    /// <summary><c>[x, y]</c>: where <c>left_click_drag</c> starts.</summary>
    public IReadOnlyList<int>? StartCoordinate { get; init; }

    /// <summary>The text to type (<c>type</c>), the keys (<c>key</c>, <c>hold_key</c>), or modifiers held while clicking or scrolling.</summary>
    public string? Text { get; init; }

    /// <summary>The keys for <c>key</c> and <c>hold_key</c> (xdotool names and chords: <c>Return</c>, <c>ctrl+s</c>); <see cref="Text"/> works too.</summary>
    public string? Key { get; init; }

    /// <summary><c>up</c>, <c>down</c>, <c>left</c> or <c>right</c>, for <c>scroll</c>.</summary>
    public string? ScrollDirection { get; init; }

    /// <summary>Wheel clicks for <c>scroll</c> (default 3).</summary>
    public int? ScrollAmount { get; init; }

    /// <summary>Seconds for <c>wait</c> and <c>hold_key</c>.</summary>
    public double? DurationS { get; init; }

    /// <summary>Also return a screenshot taken after the action (<c>screenshot</c> always returns one).</summary>
    public bool? ScreenshotAfter { get; init; }
}
