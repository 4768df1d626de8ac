using System.Buffers.Binary;

namespace Runable.Box.Desktop;

/// <summary>
/// Binds the characters to be typed that the display's keyboard map lacks (<c>é</c>, <c>✓</c>, <c>漢</c>) to spare
/// keycodes, and keeps them bound. Left to itself, xdotool binds such a character to a scratch keycode for the
/// moment of one key press and unbinds it right after; a program that reads the press later (any program on a
/// busy machine) finds no character there. Bound here first, the keysym is in the map xdotool reads when it
/// starts, so <c>xdotool key U2713</c> presses that keycode and changes nothing. Once the spare keycodes run out
/// (Xvfb's map leaves 19), the least recently typed character gives up its keycode, after a pause when it was
/// typed in the same text. Not thread-safe: the desktop runs one action at a time.
/// </summary>
internal sealed class TypingKeymap(int display, byte[] cookie)
{
    private const byte ChangeKeyboardMappingOpcode = 100;
    private const byte GetKeyboardMappingOpcode = 101;

    /// <summary>How long a program gets to read the presses of a character before its keycode goes to another one in the same text.</summary>
    public static readonly TimeSpan ReadingPause = TimeSpan.FromMilliseconds(250);

    private readonly Dictionary<int, (byte Keycode, long Text)> _bound = [];
    private readonly LinkedList<int> _recent = []; // bound code points, the least recently typed first
    private Queue<byte>? _spare;
    private int _keysymsPerKeycode;
    private long _text;

    /// <summary>The keycodes the display's map left empty (known after the first binding).</summary>
    public int SpareKeycodes { get; private set; }

    /// <summary>The characters of <paramref name="text"/> that need a binding: everything but ASCII.</summary>
    public static IReadOnlyList<int> CharactersToBind(string text) =>
        text.EnumerateRunes().Where(r => r.Value >= 0xA0).Select(r => r.Value).Distinct().ToList();

    /// <summary>Starts a new text (a <c>type</c> action): rebinding a keycode of a character typed earlier in it waits <see cref="ReadingPause"/> first.</summary>
    public void BeginText() => _text++;

    /// <summary>Binds every character of <paramref name="text"/> outside ASCII; returns how many it could not (more distinct ones than spare keycodes).</summary>
    public async Task<int> BindAsync(string text, CancellationToken cancellationToken)
    {
        var characters = CharactersToBind(text);
        if (characters.Count == 0)
        {
            return 0;
        }

        var wanted = characters.ToHashSet();
        using var x = await X11Connection.OpenAsync(display, cookie, cancellationToken).ConfigureAwait(false);
        _spare ??= await ReadSpareKeycodesAsync(x, cancellationToken).ConfigureAwait(false);
        var unbound = 0;
        var paused = false;
        foreach (var character in characters)
        {
            if (_bound.ContainsKey(character))
            {
                _recent.Remove(character);
                _recent.AddLast(character);
                continue;
            }

            if (!TryTakeKeycode(wanted, out var keycode, out var fromThisText))
            {
                unbound++;
                continue;
            }

            if (fromThisText && !paused)
            {
                // Its presses went out a moment ago: let the program read them before the keycode means another character.
                await Task.Delay(ReadingPause, cancellationToken).ConfigureAwait(false);
                paused = true;
            }

            await x.SendAsync(ChangeMapping(keycode, Keysym(character)), cancellationToken).ConfigureAwait(false);
            _bound[character] = (keycode, _text);
            _recent.AddLast(character);
        }

        await x.SyncAsync(cancellationToken).ConfigureAwait(false);
        return unbound;
    }

    /// <summary>The X keysym of a character: Latin-1 ones are their own code, the rest Unicode keysyms.</summary>
    public static uint Keysym(int codePoint) => codePoint <= 0xFF ? (uint)codePoint : 0x0100_0000u | (uint)codePoint;

    /// <summary>A spare keycode, or the one of the least recently typed character that these characters do not include.</summary>
    private bool TryTakeKeycode(HashSet<int> wanted, out byte keycode, out bool fromThisText)
    {
        fromThisText = false;
        if (_spare!.TryDequeue(out keycode))
        {
            return true;
        }

        for (var node = _recent.First; node is not null; node = node.Next)
        {
            if (!wanted.Contains(node.Value))
            {
                (keycode, var text) = _bound[node.Value];
                fromThisText = text == _text;
                _bound.Remove(node.Value);
                _recent.Remove(node);
                return true;
            }
        }

        return false;
    }

    private async Task<Queue<byte>> ReadSpareKeycodesAsync(X11Connection x, CancellationToken cancellationToken)
    {
        var count = x.MaxKeycode - x.MinKeycode + 1;
        var request = new byte[8];
        request[0] = GetKeyboardMappingOpcode;
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), 2);
        request[4] = x.MinKeycode;
        request[5] = (byte)count;
        await x.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var (header, keysyms) = await x.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
        _keysymsPerKeycode = header[1];

        var spare = new Queue<byte>();
        for (var i = 0; i < count; i++)
        {
            var empty = true;
            for (var j = 0; j < _keysymsPerKeycode && empty; j++)
            {
                empty = BinaryPrimitives.ReadUInt32LittleEndian(keysyms.AsSpan((i * _keysymsPerKeycode + j) * 4)) == 0;
            }

            if (empty)
            {
                spare.Enqueue((byte)(x.MinKeycode + i));
            }
        }

        SpareKeycodes = spare.Count;
        return spare;
    }

    /// <summary>ChangeKeyboardMapping for one keycode: the keysym on its first two levels (with and without shift), nothing on the others.</summary>
    private byte[] ChangeMapping(byte keycode, uint keysym)
    {
        var request = new byte[8 + _keysymsPerKeycode * 4];
        request[0] = ChangeKeyboardMappingOpcode;
        request[1] = 1; // one keycode
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), (ushort)(request.Length / 4));
        request[4] = keycode;
        request[5] = (byte)_keysymsPerKeycode;
        for (var level = 0; level < Math.Min(2, _keysymsPerKeycode); level++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8 + level * 4), keysym);
        }

        return request;
    }
}
