using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Runable.Box.Desktop;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Desktop;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Server.Mcp;

/// <summary>The virtual desktop as the <c>computer</c> MCP tool; screenshots come back as image content.</summary>
[McpServerToolType]
public sealed class DesktopTools(DesktopService service)
{
    [McpServerTool(Name = "computer", Title = "Use the sandbox's desktop (mouse, keyboard, screenshots)")]
    [Description("Control a virtual desktop (an X display) with mouse and keyboard and see it. Actions: screenshot, cursor_position, " +
        "mouse_move, left_click, right_click, middle_click, double_click, triple_click, left_click_drag (start_coordinate to coordinate), " +
        "left_mouse_down, left_mouse_up, key (xdotool names and chords: 'Return', 'ctrl+s', 'alt+Tab'), hold_key (for duration_s), " +
        "type (any Unicode text), scroll (scroll_direction and scroll_amount at coordinate), wait (duration_s). Coordinates are screen pixels " +
        "[x, y] from the top-left. A screenshot of the result is returned after each action unless screenshot_after is false. Programs " +
        "started with shell_exec or process_start appear on this desktop.")]
    public async Task<CallToolResult> ComputerAsync(
        [Description("The action, e.g. 'screenshot', 'left_click', 'type', 'key', 'scroll'.")] string action,
        [Description("[x, y] in screen pixels: where to move, click or scroll; where a drag ends.")] int[]? coordinate = null,
        [Description("[x, y] where left_click_drag starts.")] int[]? start_coordinate = null,
        [Description("Text to type; for key and hold_key the keys; for clicks and scroll, modifiers to hold (e.g. 'shift').")] string? text = null,
        [Description("Keys for key and hold_key, if not given as text.")] string? key = null,
        [Description("'up', 'down', 'left' or 'right' for scroll.")] string? scroll_direction = null,
        [Description("Wheel clicks for scroll (default 3).")] int? scroll_amount = null,
        [Description("Seconds for wait and hold_key.")] double? duration_s = null,
        [Description("Return a screenshot after the action (default true).")] bool? screenshot_after = null,
        CancellationToken cancellationToken = default)
    {
        DesktopActionResult result;
        try
        {
            result = await service.RunAsync(new DesktopActionRequest
            {
                Action = action,
                Coordinate = coordinate,
                StartCoordinate = start_coordinate,
                Text = text,
                Key = key,
                ScrollDirection = scroll_direction,
                ScrollAmount = scroll_amount,
                DurationS = duration_s,
                ScreenshotAfter = screenshot_after ?? action != "cursor_position",
            }, cancellationToken);
        }
        catch (BoxException e)
        {
            throw new McpException($"{e.Code}: {e.Message}");
        }

        var content = new List<ContentBlock>
        {
            new TextContentBlock { Text = JsonSerializer.Serialize(result with { Screenshot = null }, BoxJsonContext.Default.DesktopActionResult) },
        };
        if (result.Screenshot is { } png)
        {
            content.Add(ImageContentBlock.FromBytes(Convert.FromBase64String(png), "image/png"));
        }

        return new CallToolResult { Content = content };
    }
}
