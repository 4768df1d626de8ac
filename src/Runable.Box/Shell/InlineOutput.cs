using Runable.Box.Processes;

namespace Runable.Box.Shell;

/// <summary>The part of a stream returned inline: all of it when it fits, else its head and tail around a note saying where the rest is.</summary>
internal readonly record struct InlineOutput(string Text, bool Truncated)
{
    public static InlineOutput Read(SupervisedProcess process, OutputSpool spool, string stream, int cap)
    {
        var total = spool.Length;
        var dropped = spool.DroppedBytes;
        if (total - dropped <= cap && dropped == 0)
        {
            return new InlineOutput(Utf8Text.Decode(spool.Read(0, cap).Data.Span), false);
        }

        var half = cap / 2;
        var head = dropped == 0 ? spool.Read(0, half).Data : ReadOnlyMemory<byte>.Empty;
        head = head[..Utf8Text.CompleteLength(head.Span)];
        var tail = spool.Read(Math.Max(total - half, dropped), half).Data;
        tail = tail[Utf8Text.LeadingContinuationBytes(tail.Span)..];
        var tailStart = total - tail.Length;
        var omitted = tailStart - head.Length;
        var marker = $"\n[... {omitted} bytes omitted: GET /processes/{process.Id}/output?stream={stream}&offset={head.Length} ...]\n";
        return new InlineOutput(Utf8Text.Decode(head.Span) + marker + Utf8Text.Decode(tail.Span), true);
    }
}
