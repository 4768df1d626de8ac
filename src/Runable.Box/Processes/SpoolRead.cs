namespace Runable.Box.Processes;

/// <summary>Bytes read from an <see cref="OutputSpool"/>.</summary>
/// <param name="Data">The bytes.</param>
/// <param name="Offset">Where they start in the stream.</param>
/// <param name="Dropped">Bytes asked for that were dropped from the spool before <paramref name="Offset"/>.</param>
/// <param name="EndOfStream">True when the stream has ended and nothing follows these bytes.</param>
public readonly record struct SpoolRead(ReadOnlyMemory<byte> Data, long Offset, long Dropped, bool EndOfStream);
