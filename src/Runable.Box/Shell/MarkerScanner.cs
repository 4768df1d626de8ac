using System.Text;

namespace Runable.Box.Shell;

/// <summary>
/// Finds the end-of-command marker a session shell prints after each command, whatever bytes come before it:
/// <c>RS "RUNABLE:" nonce [":" status] RS</c>, where the nonce is random per command and never seen by the command.
/// Bytes before the marker are the command's output; a marker split across reads is found all the same.
/// </summary>
internal sealed class MarkerScanner
{
    private const byte Separator = 0x1E;
    private const int MaxSuffix = 16;
    private readonly byte[] _prefix;
    private readonly List<byte> _pending = [];

    public MarkerScanner(string nonce)
    {
        _prefix = Encoding.ASCII.GetBytes($"\u001eRUNABLE:{nonce}");
    }

    /// <summary>The marker text printed after a command, given its status expression (e.g. <c>$?</c> through printf).</summary>
    public static string Prefix(string nonce) => $"\\036RUNABLE:{nonce}";

    /// <summary>
    /// Scans the next bytes. Returns the bytes that are certainly output (to forward now), and sets
    /// <paramref name="marker"/> to the text between the nonce and the closing separator when the marker was found.
    /// </summary>
    public byte[] Scan(ReadOnlySpan<byte> data, out string? marker, out byte[] rest)
    {
        marker = null;
        rest = [];
        _pending.AddRange(data);
        var buffer = _pending.ToArray();
        var index = buffer.AsSpan().IndexOf(_prefix);
        while (index >= 0)
        {
            var after = buffer.AsSpan(index + _prefix.Length);
            var close = after.IndexOf(Separator);
            if (close < 0)
            {
                if (after.Length > MaxSuffix)
                {
                    // Looks like our prefix but is not our marker; keep scanning after it.
                    var next = buffer.AsSpan(index + 1).IndexOf(_prefix);
                    index = next < 0 ? -1 : index + 1 + next;
                    continue;
                }

                // The marker may be completed by the next read: keep it pending.
                _pending.Clear();
                _pending.AddRange(buffer.AsSpan(index).ToArray());
                return buffer[..index];
            }

            if (close <= MaxSuffix)
            {
                marker = Encoding.ASCII.GetString(after[..close]);
                rest = after[(close + 1)..].ToArray();
                _pending.Clear();
                return buffer[..index];
            }

            var again = buffer.AsSpan(index + 1).IndexOf(_prefix);
            index = again < 0 ? -1 : index + 1 + again;
        }

        // Keep the longest tail that could start the marker.
        var keep = 0;
        for (var length = Math.Min(_prefix.Length - 1, buffer.Length); length > 0; length--)
        {
            if (buffer.AsSpan(buffer.Length - length).SequenceEqual(_prefix.AsSpan(0, length)))
            {
                keep = length;
                break;
            }
        }

        _pending.Clear();
        _pending.AddRange(buffer.AsSpan(buffer.Length - keep).ToArray());
        return buffer[..(buffer.Length - keep)];
    }

    /// <summary>Bytes held back as a possible marker start, released when the stream ends without one.</summary>
    public byte[] Flush()
    {
        var pending = _pending.ToArray();
        _pending.Clear();
        return pending;
    }
}
