using Microsoft.Win32.SafeHandles;
using Runable.Box.Native;
using Runable.Box.Processes;

namespace Runable.Box.Terminal;

/// <summary>An interactive shell on a pseudo-terminal: bytes in, bytes out, resizable; disposing it hangs up and kills the shell's group.</summary>
public sealed class TerminalSession : IDisposable
{
    private readonly int _master;
    private readonly FileStream _stream;
    private readonly ChildProcess _child;
    private int _disposed;

    internal TerminalSession(int master, ChildProcess child)
    {
        _master = master;
        _child = child;
        _stream = new FileStream(new SafeFileHandle(master, ownsHandle: true), FileAccess.ReadWrite, bufferSize: 0);
    }

    /// <summary>The shell's process id.</summary>
    public int Pid => _child.Pid;

    /// <summary>Completes when the shell exits.</summary>
    public Task<int> Exited => _child.Exited;

    /// <summary>Reads what the terminal shows next; 0 when the shell and everything on the terminal have gone.</summary>
    public Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Task.Run(() =>
        {
            try
            {
                return _stream.Read(buffer.Span);
            }
            catch (IOException)
            {
                // EIO: the last holder of the terminal's other end closed it.
                return 0;
            }
            catch (ObjectDisposedException)
            {
                return 0;
            }
        }, cancellationToken);

    /// <summary>Types bytes into the terminal.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        _stream.Write(data);
        _stream.Flush();
    }

    /// <summary>Changes the terminal's size; the shell gets SIGWINCH.</summary>
    public void Resize(int cols, int rows)
    {
        if (cols is < 1 or > 1000 || rows is < 1 or > 1000)
        {
            throw Protocol.BoxException.InvalidArgument("cols and rows must be between 1 and 1000.");
        }

        ProcessInterop.Resize(_master, cols, rows);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _child.SignalGroup(ProcessInterop.SIGHUP);
        _child.KillGroup();
        _child.Dispose();
        _stream.Dispose();
    }
}
