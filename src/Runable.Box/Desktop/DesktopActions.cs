using System.Globalization;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Desktop;

namespace Runable.Box.Desktop;

/// <summary>
/// Checks a computer-use action and turns it into xdotool command lines (one for most actions, one per chunk
/// of text for <c>type</c>). Pure: no X server is needed.
/// </summary>
internal static class DesktopActions
{
    /// <summary>The actions <c>POST /desktop/actions</c> takes.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        "screenshot", "cursor_position", "mouse_move", "left_click", "right_click", "middle_click", "double_click", "triple_click",
        "left_click_drag", "left_mouse_down", "left_mouse_up", "key", "hold_key", "type", "scroll", "wait",
    ];

    /// <summary>Characters typed per xdotool call.</summary>
    public const int TypeChunk = 50;

    /// <summary>Characters outside ASCII pressed per xdotool call: fewer than the spare keycodes they are bound to.</summary>
    public const int KeysymChunk = 16;

    /// <summary>Milliseconds between typed characters.</summary>
    public const int TypeDelayMs = 12;

    private const double MaxDurationSeconds = 60;

    /// <summary>The xdotool command lines for <paramref name="request"/> (none for <c>screenshot</c>, <c>cursor_position</c> and <c>wait</c>).</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Plan(DesktopActionRequest request, int width, int height)
    {
        var action = request.Action;
        if (string.IsNullOrEmpty(action) || !All.Contains(action, StringComparer.Ordinal))
        {
            throw Invalid($"{(string.IsNullOrEmpty(action) ? "'action' is required" : $"Unknown action '{action}'")}: use one of {string.Join(", ", All)}.");
        }

        var at = Point(request.Coordinate, "coordinate", width, height);
        var start = Point(request.StartCoordinate, "start_coordinate", width, height);
        switch (action)
        {
            case "screenshot":
            case "cursor_position":
                return [];
            case "wait":
                Duration(request.DurationS, 1);
                return [];
            case "mouse_move":
                var to = at ?? throw Invalid("'coordinate' [x, y] is required for mouse_move.");
                return [["mousemove", X(to), Y(to)]];
            case "left_click":
            case "right_click":
            case "middle_click":
            case "double_click":
            case "triple_click":
            {
                var button = action switch { "right_click" => "3", "middle_click" => "2", _ => "1" };
                var repeat = action switch { "double_click" => "2", "triple_click" => "3", _ => "1" };
                return [WithModifiers(request.Text, [.. Move(at), "click", "--repeat", repeat, "--delay", "80", button])];
            }

            case "left_mouse_down":
                return [[.. Move(at), "mousedown", "1"]];
            case "left_mouse_up":
                return [[.. Move(at), "mouseup", "1"]];
            case "left_click_drag":
            {
                var from = start ?? throw Invalid("'start_coordinate' [x, y] is required for left_click_drag: where the drag starts.");
                var end = at ?? throw Invalid("'coordinate' [x, y] is required for left_click_drag: where the drag ends.");
                var middle = ((from.X + end.X) / 2, (from.Y + end.Y) / 2);
                return [WithModifiers(request.Text,
                [
                    "mousemove", X(from), Y(from), "mousedown", "1", "sleep", "0.05",
                    "mousemove", X(middle), Y(middle), "sleep", "0.05",
                    "mousemove", X(end), Y(end), "sleep", "0.05", "mouseup", "1",
                ])];
            }

            case "key":
            {
                var keys = Keys(request, "key");
                return [["key", "--", .. keys]];
            }

            case "hold_key":
            {
                var keys = Keys(request, "hold_key");
                var seconds = Duration(request.DurationS, 1);
                return [["keydown", "--", .. keys, "sleep", Number(seconds), "keyup", "--", .. keys.AsEnumerable().Reverse()]];
            }

            case "type":
            {
                var text = request.Text;
                if (string.IsNullOrEmpty(text))
                {
                    throw Invalid("'text' is required for type: the text to type.");
                }

                // xdotool's own way with a character outside ASCII binds it to a keycode for the moment of one press,
                // and a program that reads the press late sees nothing. Those go as key presses of their keysyms
                // instead, which the desktop binds to keycodes of their own first (TypingKeymap).
                return Runs(text).Select(run => run.Ascii
                    ? (IReadOnlyList<string>)["type", "--delay", Number(TypeDelayMs), "--", run.Text]
                    : ["key", "--delay", Number(TypeDelayMs), "--", .. run.Text.EnumerateRunes().Select(r => $"U{r.Value:X4}")]).ToList();
            }

            case "scroll":
            {
                var button = request.ScrollDirection switch
                {
                    "up" => "4",
                    "down" => "5",
                    "left" => "6",
                    "right" => "7",
                    _ => throw Invalid($"'scroll_direction' must be up, down, left or right{(request.ScrollDirection is null ? "" : $", not '{request.ScrollDirection}'")}."),
                };
                var amount = request.ScrollAmount ?? 3;
                if (amount is < 1 or > 100)
                {
                    throw Invalid("'scroll_amount' must be between 1 and 100 wheel clicks.");
                }

                return [WithModifiers(request.Text, [.. Move(at), "click", "--repeat", Number(amount), "--delay", "20", button])];
            }

            default:
                throw Invalid($"Unknown action '{action}': use one of {string.Join(", ", All)}.");
        }
    }

    /// <summary>The duration of <c>wait</c> and <c>hold_key</c>, checked.</summary>
    public static double Duration(double? seconds, double fallback)
    {
        var value = seconds ?? fallback;
        return value is >= 0 and <= MaxDurationSeconds && double.IsFinite(value)
            ? value
            : throw Invalid($"'duration_s' must be between 0 and {MaxDurationSeconds} seconds.");
    }

    /// <summary>
    /// Splits text into runs of ASCII (at most <see cref="TypeChunk"/> characters) and runs of other characters (at
    /// most <see cref="KeysymChunk"/> UTF-16 units), never between the halves of a surrogate pair.
    /// </summary>
    public static IEnumerable<(string Text, bool Ascii)> Runs(string text)
    {
        for (var i = 0; i < text.Length;)
        {
            var ascii = char.IsAscii(text[i]);
            var limit = ascii ? TypeChunk : KeysymChunk;
            var length = 1;
            while (length < limit && i + length < text.Length && char.IsAscii(text[i + length]) == ascii)
            {
                length++;
            }

            if (i + length < text.Length && char.IsHighSurrogate(text[i + length - 1]) && length > 1)
            {
                length--;
            }

            yield return (text.Substring(i, length), ascii);
            i += length;
        }
    }

    private static (int X, int Y)? Point(IReadOnlyList<int>? coordinate, string name, int width, int height)
    {
        if (coordinate is null)
        {
            return null;
        }

        if (coordinate.Count != 2)
        {
            throw Invalid($"'{name}' must be [x, y], two integers.");
        }

        var (x, y) = (coordinate[0], coordinate[1]);
        if (x < 0 || y < 0 || x >= width || y >= height)
        {
            throw Invalid($"'{name}' [{x}, {y}] is outside the screen, which is {width}x{height}: x must be 0 to {width - 1}, y 0 to {height - 1}.");
        }

        return (x, y);
    }

    private static string[] Keys(DesktopActionRequest request, string action)
    {
        var keys = (request.Key ?? request.Text ?? "").Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return keys.Length > 0
            ? keys
            : throw Invalid($"'key' (or 'text') is required for {action}: xdotool key names or chords, e.g. 'Return' or 'ctrl+s'.");
    }

    private static IReadOnlyList<string> WithModifiers(string? modifiers, IReadOnlyList<string> command)
    {
        if (string.IsNullOrWhiteSpace(modifiers))
        {
            return command;
        }

        var keys = modifiers.Split([' ', '+'], StringSplitOptions.RemoveEmptyEntries);
        return [.. keys.SelectMany(k => new[] { "keydown", k }), .. command, .. keys.Reverse().SelectMany(k => new[] { "keyup", k })];
    }

    private static IEnumerable<string> Move((int X, int Y)? at) => at is { } point ? ["mousemove", X(point), Y(point)] : [];

    private static string X((int X, int Y) point) => Number(point.X);

    private static string Y((int X, int Y) point) => Number(point.Y);

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static BoxException Invalid(string message) => BoxException.InvalidArgument(message);
}
