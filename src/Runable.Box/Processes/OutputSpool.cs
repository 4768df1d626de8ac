using Microsoft.Win32.SafeHandles;

namespace Runable.Box.Processes;

/// <summary>
/// One output stream of a process, kept on disk so memory stays flat whatever the process prints, and
/// addressed by byte offset from the stream's start. Past <c>capacity</c> bytes the oldest are dropped:
/// the spool keeps two segments of half the capacity each and deletes the older one when the newer fills.
/// </summary>
public sealed class OutputSpool : IOutputSink, IDisposable
{
    private readonly object _gate = new();
    private readonly string _directory;
    private readonly string _name;
    private readonly long _segmentBytes;
    private readonly List<(long Start, string Path)> _segments = [];
    private SafeFileHandle? _writer;
    private long _total;
    private bool _completed;
    private bool _disposed;
    private TaskCompletionSource _changed = NewSignal();

    public OutputSpool(string directory, string name, long capacity)
    {
        _directory = directory;
        _name = name;
        _segmentBytes = Math.Max(1, capacity / 2);
    }

    /// <summary>Bytes written since the start, including dropped ones.</summary>
    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Bytes that could not be stored because writing the spool failed (a full disk).</summary>
    public long LostBytes { get; private set; }

    /// <summary>Bytes dropped from the start because the spool reached its capacity.</summary>
    public long DroppedBytes
    {
        get
        {
            lock (_gate)
            {
                return _segments.Count == 0 ? 0 : _segments[0].Start;
            }
        }
    }

    /// <summary>True once the writer has finished (the stream reached end of file).</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_gate)
            {
                return _completed;
            }
        }
    }

    /// <summary>Appends bytes at the end, rotating segments as they fill.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_disposed || _completed)
            {
                return;
            }

            while (!data.IsEmpty)
            {
                if (_segments.Count == 0)
                {
                    // Files are made on the first byte: most commands of an agent print little or nothing.
                    Directory.CreateDirectory(_directory);
                    OpenSegment(0);
                }

                var current = _segments[^1];
                var room = _segmentBytes - (_total - current.Start);
                if (room <= 0)
                {
                    OpenSegment(_total);
                    continue;
                }

                var chunk = data[..(int)Math.Min(room, data.Length)];
                try
                {
                    RandomAccess.Write(_writer!, chunk, _total - current.Start);
                }
                catch (IOException)
                {
                    // The disk is full (or gone): the bytes are lost, but the stream keeps being drained so the
                    // process never blocks on a full pipe.
                    LostBytes += data.Length;
                    break;
                }

                _total += chunk.Length;
                data = data[chunk.Length..];
            }

            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    /// <summary>Marks the stream as finished; readers waiting for more data wake up.</summary>
    public void Complete()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _completed = true;
            _writer?.Dispose();
            _writer = null;
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    /// <summary>
    /// Reads up to <paramref name="limit"/> bytes from <paramref name="offset"/>. When that offset was dropped the
    /// read starts at the oldest kept byte, and <see cref="SpoolRead.Dropped"/> says how many were skipped.
    /// </summary>
    public SpoolRead Read(long offset, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var first = _segments.Count == 0 ? 0 : _segments[0].Start;
            long dropped = 0;
            if (offset < first)
            {
                dropped = first - offset;
                offset = first;
            }

            offset = Math.Min(offset, _total);
            var count = (int)Math.Min(limit, _total - offset);
            var buffer = new byte[count];
            var filled = 0;
            foreach (var (start, path) in _segments)
            {
                var end = start + _segmentBytes;
                if (filled == count || offset + filled >= end)
                {
                    continue;
                }

                var position = offset + filled;
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var want = (int)Math.Min(count - filled, end - position);
                var read = RandomAccess.Read(handle, buffer.AsSpan(filled, want), position - start);
                filled += read;
            }

            return new SpoolRead(buffer.AsMemory(0, filled), offset, dropped, _completed && offset + filled >= _total);
        }
    }

    /// <summary>Completes when the spool holds more than <paramref name="offset"/> bytes or has finished.</summary>
    public Task WaitForDataAsync(long offset, CancellationToken cancellationToken = default)
    {
        Task signal;
        lock (_gate)
        {
            if (_total > offset || _completed || _disposed)
            {
                return Task.CompletedTask;
            }

            signal = _changed.Task;
        }

        return signal.WaitAsync(cancellationToken);
    }

    /// <summary>A task that completes at the next append or completion.</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                return _completed ? Task.CompletedTask : _changed.Task;
            }
        }
    }

    public void Dispose()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _completed = true;
            _writer?.Dispose();
            foreach (var (_, path) in _segments)
            {
                File.Delete(path);
            }

            changed = _changed;
        }

        changed.TrySetResult();
    }

    private void OpenSegment(long start)
    {
        _writer?.Dispose();
        if (_segments.Count == 2)
        {
            File.Delete(_segments[0].Path);
            _segments.RemoveAt(0);
        }

        var path = Path.Combine(_directory, $"{_name}.{start}");
        _writer = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        _segments.Add((start, path));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
