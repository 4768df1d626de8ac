using System.Diagnostics;
using Runable.Box.Client;
using Runable.Box.Protocol.Desktop;

namespace Runable.Bench;

/// <summary>
/// The desktop: a 1280x800 screenshot through <c>GET /desktop/screenshot</c> against the classic pipeline
/// <c>xwd -root | xwdtopnm | pnmtopng</c> on the same display, and an action round trip
/// (<c>POST /desktop/actions mouse_move</c>) against spawning <c>xdotool mousemove</c> directly.
/// </summary>
public static class DesktopBench
{
    public static async Task<IReadOnlyList<Comparison>> RunAsync(BoxClient client, int calls)
    {
        if (!File.Exists("/usr/bin/Xvfb") || !File.Exists("/usr/bin/xwdtopnm") || !File.Exists("/usr/bin/pnmtopng"))
        {
            Console.Error.WriteLine("  skipped the desktop: it needs xvfb, x11-apps and netpbm (apt-get install xvfb x11-apps netpbm)");
            return [];
        }

        await client.DesktopActionAsync(new DesktopActionRequest { Action = "cursor_position" });
        var environment = (await client.ExecAsync("echo \"$DISPLAY $XAUTHORITY\"")).Stdout.Trim().Split(' ');
        var (display, xauthority) = (environment[0], environment[1]);

        var screenshots = Math.Max(20, calls / 5);
        var baseline = await Measurement.RunAsync("xwd -root | xwdtopnm | pnmtopng", screenshots, 3, async () =>
        {
            var info = new ProcessStartInfo("/bin/sh", ["-c", "xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng 2>/dev/null | wc -c"])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            info.Environment["DISPLAY"] = display;
            info.Environment["XAUTHORITY"] = xauthority;
            using var process = Process.Start(info)!;
            var bytes = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (int.Parse(bytes.Trim(), System.Globalization.CultureInfo.InvariantCulture) < 100)
            {
                throw new InvalidOperationException("the baseline pipeline produced no PNG");
            }
        });
        var screenshot = await Measurement.RunAsync("GET /desktop/screenshot (1280x800 PNG)", screenshots, 3, async () =>
        {
            var shot = await client.DesktopScreenshotAsync();
            if (shot.Png.Length < 100)
            {
                throw new InvalidOperationException("no PNG");
            }
        });

        var position = 0;
        var xdotool = await Measurement.RunAsync("xdotool mousemove (spawned)", calls, calls / 10, async () =>
        {
            var info = new ProcessStartInfo("xdotool", ["mousemove", $"{100 + position++ % 500}", "200"]) { UseShellExecute = false };
            info.Environment["DISPLAY"] = display;
            info.Environment["XAUTHORITY"] = xauthority;
            using var process = Process.Start(info)!;
            await process.WaitForExitAsync();
        });
        var action = await Measurement.RunAsync("POST /desktop/actions mouse_move", calls, calls / 10, async () =>
            await client.DesktopActionAsync(new DesktopActionRequest { Action = "mouse_move", Coordinate = [100 + position++ % 500, 300] }));

        return
        [
            new Comparison("desktop screenshot 1280x800", screenshot, baseline, "p50 < baseline"),
            new Comparison("desktop action round trip (mouse_move)", action, xdotool, "reported"),
        ];
    }
}
