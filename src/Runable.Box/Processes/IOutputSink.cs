namespace Runable.Box.Processes;

/// <summary>Where a child's output stream goes as it is read.</summary>
public interface IOutputSink
{
    /// <summary>Takes the next bytes of the stream.</summary>
    void Append(ReadOnlySpan<byte> data);

    /// <summary>The stream reached end of file.</summary>
    void Complete();
}
