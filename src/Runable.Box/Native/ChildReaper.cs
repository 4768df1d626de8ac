using System.Runtime.InteropServices;

namespace Runable.Box.Native;

/// <summary>
/// Learns when the children started by <see cref="SpawnInterop"/> exit, and reaps them: one thread polls their
/// pidfds (readable once the process has exited) and collects each exit status with <c>waitid(P_PIDFD)</c>. It leaves
/// alone the children the runtime's <see cref="System.Diagnostics.Process"/> started, which the runtime reaps itself.
/// </summary>
internal static unsafe partial class ChildReaper
{
    private const int PollIn = 0x001;
    private const int EIntr = 4;
    private const int PPidFd = 3;
    private const int WExited = 4;
    private const int CldExited = 1;
    private const int OCloExec = 0x80000;
    private const int ONonBlock = 0x800;

    private static readonly Lock s_lock = new();
    private static readonly Dictionary<int, TaskCompletionSource<int>> s_watched = [];
    private static int s_wakeRead = -1;
    private static int s_wakeWrite = -1;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitid(int idType, int id, byte* info, int options);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, byte* buffer, nuint count);

    /// <summary>
    /// Watches the child behind <paramref name="pidfd"/> (this class closes it once the child is reaped); the task
    /// completes with its exit code, 128 + the signal's number when a signal ended it.
    /// </summary>
    public static Task<int> Watch(int pidfd)
    {
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (s_lock)
        {
            if (s_wakeWrite < 0)
            {
                var wake = stackalloc int[2];
                if (pipe2(wake, OCloExec | ONonBlock) != 0)
                {
                    throw new IOException($"pipe2 failed (errno {Marshal.GetLastPInvokeError()}).");
                }

                (s_wakeRead, s_wakeWrite) = (wake[0], wake[1]);
                new Thread(Run) { IsBackground = true, Name = "runable child reaper" }.Start();
            }

            s_watched.Add(pidfd, exited);
        }

        Wake();
        return exited.Task;
    }

    private static void Wake()
    {
        byte one = 1;
        write(s_wakeWrite, &one, 1); // a full pipe already wakes the thread
    }

    private static void Run()
    {
        var buffer = stackalloc byte[64];
        var info = stackalloc byte[128];
        while (true)
        {
            int[] pidfds;
            lock (s_lock)
            {
                pidfds = [.. s_watched.Keys];
            }

            var fds = new PollFd[pidfds.Length + 1];
            fds[0] = new PollFd { Fd = s_wakeRead, Events = PollIn };
            for (var i = 0; i < pidfds.Length; i++)
            {
                fds[i + 1] = new PollFd { Fd = pidfds[i], Events = PollIn };
            }

            fixed (PollFd* polled = fds)
            {
                if (poll(polled, (nuint)fds.Length, -1) < 0 && Marshal.GetLastPInvokeError() != EIntr)
                {
                    Thread.Sleep(10); // not expected; do not spin
                    continue;
                }
            }

            if (fds[0].Revents != 0)
            {
                while (read(s_wakeRead, buffer, 64) > 0)
                {
                }
            }

            for (var i = 1; i < fds.Length; i++)
            {
                if (fds[i].Revents == 0)
                {
                    continue;
                }

                new Span<byte>(info, 128).Clear();
                if (waitid(PPidFd, fds[i].Fd, info, WExited) != 0)
                {
                    continue; // EINTR: the next poll sees it again
                }

                // siginfo_t: si_code at offset 8, si_status at 24 (the exit code, or the signal's number).
                var code = *(int*)(info + 8);
                var status = *(int*)(info + 24);
                TaskCompletionSource<int>? exited;
                lock (s_lock)
                {
                    s_watched.Remove(fds[i].Fd, out exited);
                }

                ProcessInterop.Close(fds[i].Fd);
                exited?.TrySetResult(code == CldExited ? status : 128 + status);
            }
        }
    }
}
