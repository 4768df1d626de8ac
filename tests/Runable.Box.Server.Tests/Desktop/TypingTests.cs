using System.Buffers.Binary;
using System.Globalization;
using Runable.Box.Desktop;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Desktop;

namespace Runable.Box.Server.Tests.Desktop;

/// <summary>How text is typed: ASCII through xdotool's type, everything else as key presses of keysyms bound to keycodes of their own.</summary>
public sealed class TypingTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Type_SplitsTextIntoAsciiAndKeysymRuns_KeepingSurrogatePairsWhole()
    {
        var commands = DesktopActions.Plan(new DesktopActionRequest { Action = "type", Text = "ab é✓ c😀" }, 1280, 800);
        Assert.Equal(
        [
            "type --delay 12 -- ab ",
            "key --delay 12 -- U00E9 U2713",
            "type --delay 12 --  c",
            "key --delay 12 -- U1F600",
        ], commands.Select(c => string.Join(' ', c)));

        var long_ = new string('x', DesktopActions.TypeChunk - 1) + "😀";
        Assert.Equal([new string('x', DesktopActions.TypeChunk - 1), "😀"], DesktopActions.Runs(long_).Select(r => r.Text));
        var pairs = string.Concat(Enumerable.Repeat("😀", DesktopActions.TypeChunk));
        Assert.All(DesktopActions.Runs(pairs), r => Assert.False(char.IsHighSurrogate(r.Text[^1])));
        Assert.Equal(pairs, string.Concat(DesktopActions.Runs(pairs).Select(r => r.Text)));
    }

    [Fact]
    public async Task TypedText_InAnyScript_ArrivesWhole()
    {
        var marker = Path.Combine(box.Workspace, "typed");
        await box.Client.DesktopActionAsync(new DesktopActionRequest { Action = "cursor_position" }, Ct);
        var xterm = (await box.Client.StartProcessAsync(new() { Command = $"exec xterm -geometry 100x20+10+10 -T typed -e bash --noprofile --norc -c 'IFS= read -r line; printf %s \"$line\" > {marker}'" }, Ct)).ProcessId;
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            DesktopWindow? window;
            while ((window = (await box.Client.DesktopWindowsAsync(Ct)).FirstOrDefault(w => w.Title == "typed")) is null)
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), "the xterm did not appear");
                await Task.Delay(100, Ct);
            }

            await box.Client.DesktopActionAsync(new DesktopActionRequest { Action = "left_click", Coordinate = [window.X + 20, window.Y + 20] }, Ct);
            const string Text = "Grüße, 世界! Ελληνικά — русский — עברית — 😀👍 — ¡ñ! x² 漢字仮名交じり文は日本語の表記法です";
            await box.Client.DesktopActionAsync(new DesktopActionRequest { Action = "type", Text = Text + "\n" }, Ct);
            watch.Restart();
            while (!File.Exists(marker) || await File.ReadAllTextAsync(marker, Ct) != Text)
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15),
                    $"the xterm read '{(File.Exists(marker) ? await File.ReadAllTextAsync(marker, Ct) : "")}', not '{Text}'");
                await Task.Delay(100, Ct);
            }
        }
        finally
        {
            try
            {
                await box.Client.SignalAsync(xterm, "KILL", Ct);
            }
            catch (BoxException)
            {
                // It exited after reading its line.
            }
        }
    }
}

/// <summary>
/// The keymap itself, on a box of its own (another keymap on the same display would hand out the same keycodes).
/// </summary>
public sealed class TypingKeymapTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Keymap_KeepsCharactersBound_AndGivesUpTheLeastRecentlyTypedWhenFull()
    {
        var (display, cookie) = await DisplayAsync();
        var keymap = new TypingKeymap(display, cookie);
        Assert.Equal(0, await keymap.BindAsync("plain ASCII", Ct));
        Assert.Equal(0, await keymap.BindAsync("é ✓", Ct));
        var map = await KeysymsAsync(display, cookie);
        Assert.Contains(TypingKeymap.Keysym('é'), map);
        Assert.Contains(0x0100_2713u, map);
        Assert.True(keymap.SpareKeycodes >= DesktopActions.KeysymChunk, $"only {keymap.SpareKeycodes} spare keycodes");

        // One character more than the spare keycodes left: é, typed least recently and not in these, gives up its
        // keycode, at once (it was typed in an earlier text).
        keymap.BeginText();
        var han = Enumerable.Range(0x4E00, keymap.SpareKeycodes - 1).Select(c => char.ConvertFromUtf32(c));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(0, await keymap.BindAsync("✓" + string.Concat(han), Ct));
        Assert.True(watch.Elapsed < TypingKeymap.ReadingPause, $"binding took {watch.Elapsed.TotalMilliseconds:0} ms");
        map = await KeysymsAsync(display, cookie);
        Assert.DoesNotContain(TypingKeymap.Keysym('é'), map);
        Assert.Contains(0x0100_2713u, map);
        Assert.Contains(0x0100_4E00u, map);

        // ✓ was typed in the text before: its keycode goes at once. A keycode of a character of this text goes to
        // another one only after a pause that lets programs read the presses.
        watch.Restart();
        Assert.Equal(0, await keymap.BindAsync("ぁ", Ct));
        Assert.True(watch.Elapsed < TypingKeymap.ReadingPause, $"binding took {watch.Elapsed.TotalMilliseconds:0} ms");
        Assert.DoesNotContain(0x0100_2713u, await KeysymsAsync(display, cookie));
        watch.Restart();
        Assert.Equal(0, await keymap.BindAsync("ぃ", Ct));
        // (Timers may fire a few milliseconds early against the stopwatch.)
        Assert.True(watch.Elapsed >= TypingKeymap.ReadingPause - TimeSpan.FromMilliseconds(20), $"rebinding within one text took only {watch.Elapsed.TotalMilliseconds:0} ms");

        // More distinct characters at once than keycodes: the rest is reported, nothing these need is evicted.
        var tooMany = string.Concat(Enumerable.Range(0x3041, keymap.SpareKeycodes + 1).Select(c => char.ConvertFromUtf32(c)));
        Assert.Equal(1, await keymap.BindAsync(tooMany, Ct));
    }

    /// <summary>The display number and MIT cookie of the box's desktop (the cookie is the Xauthority file's last 16 bytes).</summary>
    private async Task<(int Display, byte[] Cookie)> DisplayAsync()
    {
        await box.Client.DesktopActionAsync(new DesktopActionRequest { Action = "cursor_position" }, Ct);
        var env = (await box.Client.ExecAsync("echo \"${DISPLAY#:} $XAUTHORITY\"", cancellationToken: Ct)).Stdout.Trim().Split(' ');
        return (int.Parse(env[0], CultureInfo.InvariantCulture), (await File.ReadAllBytesAsync(env[1], Ct))[^16..]);
    }

    /// <summary>Every keysym of the display's keyboard map (GetKeyboardMapping).</summary>
    private static async Task<HashSet<uint>> KeysymsAsync(int display, byte[] cookie)
    {
        using var x = await X11Connection.OpenAsync(display, cookie, Ct);
        var request = new byte[8];
        request[0] = 101;
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), 2);
        request[4] = x.MinKeycode;
        request[5] = (byte)(x.MaxKeycode - x.MinKeycode + 1);
        await x.SendAsync(request, Ct);
        var (_, keysyms) = await x.ReadReplyAsync(Ct);
        return Enumerable.Range(0, keysyms.Length / 4).Select(i => BinaryPrimitives.ReadUInt32LittleEndian(keysyms.AsSpan(i * 4))).ToHashSet();
    }
}
