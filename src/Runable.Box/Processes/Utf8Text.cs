using System.Text;

namespace Runable.Box.Processes;

/// <summary>Turns arbitrary output bytes into text without losing the reader's place: invalid sequences become U+FFFD, and cuts fall on character boundaries.</summary>
public static class Utf8Text
{
    private static readonly UTF8Encoding s_lossy = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Decodes bytes, replacing invalid sequences with U+FFFD (NUL bytes are kept as U+0000).</summary>
    public static string Decode(ReadOnlySpan<byte> bytes) => s_lossy.GetString(bytes);

    /// <summary>The length of <paramref name="bytes"/> without a multi-byte character cut short at its end.</summary>
    public static int CompleteLength(ReadOnlySpan<byte> bytes)
    {
        // Look back at most three bytes for the lead byte of the last character.
        for (var back = 1; back <= Math.Min(4, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }

            var needed = b >= 0xF5 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 1;
            return needed > back ? bytes.Length - back : bytes.Length;
        }

        return bytes.Length;
    }

    /// <summary>How many continuation bytes open <paramref name="bytes"/> (the tail of a character cut at the start).</summary>
    public static int LeadingContinuationBytes(ReadOnlySpan<byte> bytes)
    {
        var count = 0;
        while (count < Math.Min(3, bytes.Length) && (bytes[count] & 0xC0) == 0x80)
        {
            count++;
        }

        return count;
    }
}
