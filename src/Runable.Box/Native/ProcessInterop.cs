using System.Runtime.InteropServices;

namespace Runable.Box.Native;

/// <summary>The few libc calls the process and terminal services need that .NET does not expose.</summary>
internal static partial class ProcessInterop
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;
    public const int SIGKILL = 9;
    public const int SIGUSR1 = 10;
    public const int SIGUSR2 = 12;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    public const int ESRCH = 3;

    private const int ORdWr = 0x2;
    private const int ONoCtty = 0x100;
    private const int OCloExec = 0x80000;
    private const ulong TIOCSWINSZ = 0x5414;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_openpt(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int grantpt(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unlockpt(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ptsname_r(int fd, byte* buf, nuint buflen);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ioctl(int fd, ulong request, void* arg);

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Cols;
        public ushort XPixels;
        public ushort YPixels;
    }

    /// <summary>Sends <paramref name="signal"/> to every process of the group <paramref name="processGroup"/>; false when the group is gone.</summary>
    public static bool SignalGroup(int processGroup, int signal)
    {
        if (processGroup <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(processGroup), "Refusing to signal process group 0, 1 or a negative one.");
        }

        return kill(-processGroup, signal) == 0;
    }

    /// <summary>Sends <paramref name="signal"/> to the one process <paramref name="pid"/>; false when it is gone.</summary>
    public static bool SignalProcess(int pid, int signal)
    {
        if (pid <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(pid), "Refusing to signal process 0, 1 or a negative one.");
        }

        return kill(pid, signal) == 0;
    }

    /// <summary>True when any process of the group still exists.</summary>
    public static bool GroupExists(int processGroup) => processGroup > 1 && kill(-processGroup, 0) == 0;

    /// <summary>Opens a new pseudo-terminal; returns the master descriptor and the slave's path.</summary>
    public static unsafe (int Master, string SlavePath) OpenPty()
    {
        var master = posix_openpt(ORdWr | ONoCtty | OCloExec);
        if (master < 0)
        {
            throw new IOException($"posix_openpt failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        var buffer = stackalloc byte[256];
        if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, buffer, 256) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Close(master);
            throw new IOException($"Setting up the pseudo-terminal failed (errno {errno}).");
        }

        return (master, Marshal.PtrToStringUTF8((nint)buffer)!);
    }

    /// <summary>Sets a terminal's size in character cells.</summary>
    public static unsafe void Resize(int fd, int cols, int rows)
    {
        var size = new WinSize { Cols = (ushort)cols, Rows = (ushort)rows };
        if (ioctl(fd, TIOCSWINSZ, &size) != 0)
        {
            throw new IOException($"Resizing the terminal failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>Maps a signal name (<c>INT</c>, <c>SIGTERM</c>, <c>9</c>) to its number; null when unknown.</summary>
    public static int? ParseSignal(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var upper = name.Trim().ToUpperInvariant();
        if (upper.StartsWith("SIG", StringComparison.Ordinal))
        {
            upper = upper[3..];
        }

        return upper switch
        {
            "HUP" or "1" => SIGHUP,
            "INT" or "2" => SIGINT,
            "QUIT" or "3" => SIGQUIT,
            "KILL" or "9" => SIGKILL,
            "USR1" or "10" => SIGUSR1,
            "USR2" or "12" => SIGUSR2,
            "TERM" or "15" => SIGTERM,
            "CONT" or "18" => SIGCONT,
            "STOP" or "19" => SIGSTOP,
            _ => null,
        };
    }
}
