using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using Runable.Box.Client;
using Runable.Box.Protocol.Desktop;

namespace Runable.Orchestrator.Agents.Tools;

/// <summary>
/// <c>computer</c>: the sandbox's virtual desktop, driven with the computer-use actions models are trained on. Screenshots
/// come back as PNG images; a refused action (a point off the screen, an unknown key) is an <c>Error:</c> observation.
/// </summary>
internal sealed class ComputerTool : BoxTool
{
    private const string Schema = """
        {
          "type": "object",
          "properties": {
            "action": {"type": "string", "enum": ["screenshot", "cursor_position", "mouse_move", "left_click", "right_click", "middle_click", "double_click", "triple_click", "left_click_drag", "left_mouse_down", "left_mouse_up", "key", "hold_key", "type", "scroll", "wait"], "description": "The action to perform."},
            "coordinate": {"type": "array", "items": {"type": "integer"}, "description": "(x, y): the x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to, click or scroll at. Required for mouse_move and left_click_drag (where the drag ends); optional for clicks and scroll (default: where the pointer is)."},
            "start_coordinate": {"type": "array", "items": {"type": "integer"}, "description": "(x, y): where left_click_drag starts."},
            "text": {"type": "string", "description": "Required for type (the text to type) and key or hold_key (xdotool key names or chords, e.g. \"Return\", \"ctrl+s\", \"alt+Tab\"; several separated by spaces). For clicks and scroll: modifier keys held meanwhile, e.g. \"shift\"."},
            "key": {"type": "string", "description": "The keys for key and hold_key, as an alternative to text."},
            "scroll_direction": {"type": "string", "enum": ["up", "down", "left", "right"], "description": "The direction to scroll. Required for scroll."},
            "scroll_amount": {"type": "integer", "description": "The number of wheel clicks to scroll (default 3)."},
            "duration": {"type": "number", "description": "Seconds to wait (wait) or to hold the keys (hold_key); at most 60."}
          },
          "required": ["action"]
        }
        """;

    private const string ToolDescription = """
        Use a mouse and keyboard to interact with the sandbox's virtual desktop (a Linux X display with a light window manager), and take screenshots.
        * Programs started from bash (e.g. `xterm &`, a browser) appear on this desktop once it runs; start with a screenshot to see the screen and its size.
        * Coordinates are screen pixels from the top-left corner, as in the screenshots; a point off the screen is refused.
        * Actions other than screenshot and cursor_position return a screenshot taken just after them. Some programs take a while to start or redraw: use wait, then screenshot, before concluding an action failed.
        * Click on the middle of elements, not their edges. To type into a field, click it first.
        """;

    private readonly BoxClient _box;
    private readonly AgentToolOptions _options;

    public ComputerTool(BoxClient box, AgentToolOptions options, TimeProvider time)
        : base("computer", ToolDescription, Schema, time)
    {
        _box = box;
        _options = options;
    }

    protected override async Task<ToolResult> ExecuteAsync(ToolArguments arguments, CancellationToken cancellationToken)
    {
        var action = arguments.RequiredString("action", "what to do, e.g. screenshot, left_click, type, key");
        var duration = arguments.Number("duration");
        if (duration is < 0 or > 60)
        {
            throw new ToolArgumentException("duration must be between 0 and 60 seconds.");
        }

        var request = new DesktopActionRequest
        {
            Action = action,
            Coordinate = arguments.Ints("coordinate", 2, "[x, y]"),
            StartCoordinate = arguments.Ints("start_coordinate", 2, "[x, y]"),
            Text = arguments.String("text"),
            Key = arguments.String("key"),
            ScrollDirection = arguments.String("scroll_direction"),
            ScrollAmount = arguments.Int("scroll_amount"),
            DurationS = duration,
            ScreenshotAfter = _options.ScreenshotAfterActions && action is not ("screenshot" or "cursor_position"),
        };
        var result = await _box.DesktopActionAsync(request, cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
        {
            return ToolResult.Error($"the desktop did not perform {action}. Take a screenshot to see the screen's state.");
        }

        var text = new StringBuilder(action == "screenshot" ? "Screenshot taken." : $"Done: {action}.");
        if (result.Cursor is [var x, var y])
        {
            text.Append(CultureInfo.InvariantCulture, $" The pointer is at ({x}, {y});");
        }

        text.Append(CultureInfo.InvariantCulture, $" the screen is {result.Width}x{result.Height} pixels.");
        var images = new List<DataContent>();
        if (result.Screenshot is { } png)
        {
            images.Add(new DataContent(Convert.FromBase64String(png), "image/png"));
            text.Append(action == "screenshot" ? " The screenshot is attached." : " A screenshot taken after the action is attached.");
        }

        return new ToolResult { Text = text.ToString(), Images = images };
    }
}
