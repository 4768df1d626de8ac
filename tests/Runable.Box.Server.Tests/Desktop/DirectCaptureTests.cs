using Runable.Box.Desktop;
using Runable.Box.Protocol.Desktop;
using Runable.Box.Protocol.Processes;

namespace Runable.Box.Server.Tests.Desktop;

/// <summary>Screenshots read straight from the X server show exactly what xwd shows.</summary>
public sealed class DirectCaptureTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Screenshot_HasTheSamePixelsAsXwd()
    {
        await box.Client.DesktopActionAsync(new DesktopActionRequest { Action = "mouse_move", Coordinate = [1270, 790] }, Ct);
        var logo = await box.Client.StartProcessAsync(new ProcessStartRequest { Command = "exec xlogo -geometry 300x300+100+100" }, Ct);
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (!(await box.Client.DesktopWindowsAsync(Ct)).Any(w => w.Width == 300))
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "xlogo did not appear");
                await Task.Delay(100, Ct);
            }

            await Task.Delay(300, Ct);
            var shot = await box.Client.DesktopScreenshotAsync(cancellationToken: Ct);
            var (direct, width, height) = PngReader.Read(shot.Png);
            var xwd = Path.Combine(box.Workspace, "screen.xwd");
            Assert.Equal(0, (await box.Client.ExecAsync($"xwd -root -silent > {xwd}", cancellationToken: Ct)).ExitCode);
            var (reference, referenceWidth, referenceHeight) = XwdImage.ToRgb(await File.ReadAllBytesAsync(xwd, Ct));

            Assert.Equal((referenceWidth, referenceHeight), (width, height));
            Assert.True(direct.AsSpan().SequenceEqual(reference), "the direct capture differs from xwd's");
            Assert.True(direct.Distinct().Count() > 1, "the screen is blank: xlogo should be on it");

            // And the reader itself (the route falls back to xwd when it fails): the cookie is the Xauthority's last 16 bytes.
            var env = (await box.Client.ExecAsync("echo \"${DISPLAY#:} $XAUTHORITY\"", cancellationToken: Ct)).Stdout.Trim().Split(' ');
            var cookie = (await File.ReadAllBytesAsync(env[1], Ct))[^16..];
            var (grabbed, _, _) = await X11Capture.CaptureAsync(int.Parse(env[0], System.Globalization.CultureInfo.InvariantCulture), cookie, Ct);
            Assert.True(grabbed.AsSpan().SequenceEqual(reference), "X11Capture differs from xwd");
        }
        finally
        {
            await box.Client.SignalAsync(logo.ProcessId, "KILL", Ct);
        }
    }
}
