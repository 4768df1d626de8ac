using System.Text;
using Runable.Box.Processes;

namespace Runable.Box.Server.Processes;

/// <summary>Reads a spool forward from where the last read stopped, decoding UTF-8 across chunk boundaries.</summary>
internal sealed class SpoolFollower(OutputSpool spool, long offset = 0)
{
    private const int ChunkBytes = 64 * 1024;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();

    public long Offset { get; private set; } = offset;

    public IEnumerable<string> ReadAvailable()
    {
        while (true)
        {
            var read = spool.Read(Offset, ChunkBytes);
            if (read.Data.IsEmpty)
            {
                if (read.EndOfStream)
                {
                    var rest = Flush();
                    if (rest.Length > 0)
                    {
                        yield return rest;
                    }
                }

                yield break;
            }

            Offset = read.Offset + read.Data.Length;
            var chars = new char[_decoder.GetCharCount(read.Data.Span, flush: false)];
            var count = _decoder.GetChars(read.Data.Span, chars, flush: false);
            if (count > 0)
            {
                yield return new string(chars, 0, count);
            }
        }
    }

    /// <summary>Completes when more data may be read; never, once the stream has ended and been read to its end.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) =>
        spool.IsCompleted && Offset >= spool.Length
            ? Task.Delay(Timeout.Infinite, cancellationToken)
            : spool.WaitForDataAsync(Offset, cancellationToken);

    /// <summary>True when the stream has ended and everything was read.</summary>
    public bool AtEnd => spool.IsCompleted && Offset >= spool.Length;

    private string Flush()
    {
        var chars = new char[8];
        var count = _decoder.GetChars([], chars, flush: true);
        return new string(chars, 0, count);
    }
}
