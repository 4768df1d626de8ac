using System.Runtime.InteropServices;

namespace Runable.Cli.Remote;

/// <summary>
/// Raw mode on a local terminal (keys are passed on as typed: no echo, no line editing, Ctrl-C is a byte rather
/// than a signal), restored as it was when disposed. <c>struct termios</c> is kept as opaque bytes that libc's
/// own <c>tcgetattr</c>, <c>cfmakeraw</c> and <c>tcsetattr</c> interpret, so no layout is assumed here.
/// </summary>
public sealed unsafe partial class RawTerminal : IDisposable
{
    // Larger than struct termios on every Linux architecture (60 bytes on x86-64 and arm64).
    private const int TermiosBytes = 256;
    private const int TcsaNow = 0;
    private const int TcsaDrain = 1;

    private readonly int _fd;
    private readonly byte[] _saved;
    private int _restored;

    private RawTerminal(int fd, byte[] saved)
    {
        _fd = fd;
        _saved = saved;
    }

    /// <summary>Puts the terminal on <paramref name="fd"/> in raw mode; null when it is not a terminal.</summary>
    public static RawTerminal? Enter(int fd = 0)
    {
        var saved = new byte[TermiosBytes];
        var raw = new byte[TermiosBytes];
        fixed (byte* savedPointer = saved)
        fixed (byte* rawPointer = raw)
        {
            if (TcGetAttr(fd, savedPointer) != 0)
            {
                return null;
            }

            saved.CopyTo(raw, 0);
            CfMakeRaw(rawPointer);
            return TcSetAttr(fd, TcsaNow, rawPointer) == 0 ? new RawTerminal(fd, saved) : null;
        }
    }

    /// <summary>Restores the terminal's settings from before <see cref="Enter"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _restored, 1) == 0)
        {
            fixed (byte* savedPointer = _saved)
            {
                _ = TcSetAttr(_fd, TcsaDrain, savedPointer);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    private static partial int TcGetAttr(int fd, byte* termios);

    [LibraryImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    private static partial int TcSetAttr(int fd, int optionalActions, byte* termios);

    [LibraryImport("libc", EntryPoint = "cfmakeraw")]
    private static partial void CfMakeRaw(byte* termios);
}
