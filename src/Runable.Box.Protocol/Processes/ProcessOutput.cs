namespace Runable.Box.Protocol.Processes;

/// <summary>A page of a process's output, addressed by byte offset in the stream.</summary>
public sealed record ProcessOutput
{
    /// <summary>The bytes of the page, as UTF-8 text (invalid sequences replaced) or base64 when asked.</summary>
    public string Data { get; init; } = "";

    /// <summary>The byte offset where <see cref="Data"/> starts (later than asked when older bytes were dropped).</summary>
    public long Offset { get; init; }

    /// <summary>The offset to ask for next.</summary>
    public long NextOffset { get; init; }

    /// <summary>True when the process has exited and everything up to its end has been returned.</summary>
    public bool Eof { get; init; }

    /// <summary><c>utf-8</c> or <c>base64</c>.</summary>
    public string Encoding { get; init; } = "utf-8";

    /// <summary>Bytes before <see cref="Offset"/> that were asked for but dropped from the capped spool.</summary>
    public long DroppedBytes { get; init; }
}
