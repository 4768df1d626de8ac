using System.Runtime.InteropServices;
using System.Text;

namespace Runable.Box.Native;

/// <summary>
/// Starts a program with <c>posix_spawn</c> in a new session (<c>POSIX_SPAWN_SETSID</c>): one vfork-style clone and
/// one exec, where going through the <c>setsid</c> program costs a second exec (about a millisecond, most of what a
/// short command's round trip adds to the command itself). The child gets default signal dispositions and an empty
/// signal mask (the runtime ignores SIGPIPE, which an exec would otherwise pass on), three fresh pipes as its
/// standard streams, and a pidfd through which <see cref="ChildReaper"/> learns of its exit.
/// </summary>
internal static unsafe partial class SpawnInterop
{
    private const int OCloExec = 0x80000;
    private const short PosixSpawnSetSigDef = 0x04;
    private const short PosixSpawnSetSigMask = 0x08;
    private const short PosixSpawnSetSid = 0x80;
    private const int SIGKILL = 9;
    private const int SIGSTOP = 19;
    private const long SysPidfdOpen = 434;

    // glibc's posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336 and sigset_t 128: room to spare.
    private const int ActionsSize = 256;
    private const int AttributesSize = 1024;
    private const int SigsetSize = 256;

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newFd);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_addchdir_np(void* actions, byte* path);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_init(void* attributes);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigmask(void* attributes, void* sigset);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigdefault(void* attributes, void* sigset);

    [LibraryImport("libc")]
    private static partial int posix_spawn(int* pid, byte* path, void* actions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc")]
    private static partial int sigemptyset(void* set);

    [LibraryImport("libc")]
    private static partial int sigfillset(void* set);

    [LibraryImport("libc")]
    private static partial int sigdelset(void* set, int signal);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long argument1, long argument2);

    /// <summary>A started child: its pid, its pidfd, and the parent's ends of its standard streams.</summary>
    public readonly record struct Spawned(int Pid, int PidFd, int Stdin, int Stdout, int Stderr);

    /// <summary>
    /// Starts <paramref name="path"/> (absolute) with <paramref name="arguments"/> (argv[0] included) and exactly
    /// <paramref name="environment"/> in <paramref name="workingDirectory"/>, as the leader of a new session.
    /// </summary>
    public static Spawned Spawn(string path, IReadOnlyList<string> arguments, IReadOnlyList<string> environment, string workingDirectory)
    {
        var fds = stackalloc int[6] { -1, -1, -1, -1, -1, -1 };
        var actions = NativeMemory.AllocZeroed(ActionsSize);
        var attributes = NativeMemory.AllocZeroed(AttributesSize);
        var mask = NativeMemory.AllocZeroed(SigsetSize);
        var defaults = NativeMemory.AllocZeroed(SigsetSize);
        var strings = new List<nint>();
        var spawned = false;
        try
        {
            for (var i = 0; i < 3; i++)
            {
                if (pipe2(fds + (2 * i), OCloExec) != 0)
                {
                    throw new IOException($"pipe2 failed (errno {Marshal.GetLastPInvokeError()}).");
                }
            }

            // fds: [0] stdin read (child), [1] stdin write (parent), [2] stdout read (parent), [3] stdout write
            // (child), [4] stderr read (parent), [5] stderr write (child). dup2 onto 0-2 clears close-on-exec there;
            // every other descriptor of this process is close-on-exec and goes away with the exec.
            Check(posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            Check(posix_spawn_file_actions_adddup2(actions, fds[0], 0), "adddup2");
            Check(posix_spawn_file_actions_adddup2(actions, fds[3], 1), "adddup2");
            Check(posix_spawn_file_actions_adddup2(actions, fds[5], 2), "adddup2");
            Check(posix_spawn_file_actions_addchdir_np(actions, Utf8(workingDirectory, strings)), "addchdir_np");

            Check(posix_spawnattr_init(attributes), "posix_spawnattr_init");
            sigemptyset(mask);
            sigfillset(defaults);
            sigdelset(defaults, SIGKILL);
            sigdelset(defaults, SIGSTOP);
            Check(posix_spawnattr_setsigmask(attributes, mask), "setsigmask");
            Check(posix_spawnattr_setsigdefault(attributes, defaults), "setsigdefault");
            Check(posix_spawnattr_setflags(attributes, (short)(PosixSpawnSetSid | PosixSpawnSetSigMask | PosixSpawnSetSigDef)), "setflags");

            var argv = stackalloc byte*[arguments.Count + 1];
            for (var i = 0; i < arguments.Count; i++)
            {
                argv[i] = Utf8(arguments[i], strings);
            }

            argv[arguments.Count] = null;
            var envp = (byte**)NativeMemory.Alloc((nuint)(environment.Count + 1), (nuint)sizeof(byte*));
            strings.Add((nint)envp);
            for (var i = 0; i < environment.Count; i++)
            {
                envp[i] = Utf8(environment[i], strings);
            }

            envp[environment.Count] = null;

            int pid;
            var error = posix_spawn(&pid, Utf8(path, strings), actions, attributes, argv, envp);
            if (error != 0)
            {
                throw new System.ComponentModel.Win32Exception(error, $"Could not start {path}: {Marshal.GetPInvokeErrorMessage(error)}.");
            }

            spawned = true;
            var pidfd = (int)syscall(SysPidfdOpen, pid, 0);
            if (pidfd < 0)
            {
                // Not reachable on Linux 5.4 or later; the child must not run unwatched.
                var errno = Marshal.GetLastPInvokeError();
                ProcessInterop.SignalProcess(pid, SIGKILL);
                foreach (var i in new[] { 1, 2, 4 })
                {
                    ProcessInterop.Close(fds[i]);
                    fds[i] = -1;
                }

                throw new IOException($"pidfd_open failed (errno {errno}); the box needs Linux 5.4 or later.");
            }

            return new Spawned(pid, pidfd, fds[1], fds[2], fds[4]);
        }
        finally
        {
            // The child's ends are the child's now (or nobody's, on failure); the parent's ends go back on failure.
            foreach (var i in spawned ? [0, 3, 5] : new[] { 0, 1, 2, 3, 4, 5 })
            {
                if (fds[i] >= 0)
                {
                    ProcessInterop.Close(fds[i]);
                }
            }

            posix_spawn_file_actions_destroy(actions);
            posix_spawnattr_destroy(attributes);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(mask);
            NativeMemory.Free(defaults);
            foreach (var pointer in strings)
            {
                NativeMemory.Free((void*)pointer);
            }
        }
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new IOException($"{what} failed (errno {result}).");
        }
    }

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="text"/>, freed with the others in <paramref name="owned"/>.</summary>
    private static byte* Utf8(string text, List<nint> owned)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        owned.Add((nint)buffer);
        Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, length));
        buffer[length] = 0;
        return buffer;
    }
}
