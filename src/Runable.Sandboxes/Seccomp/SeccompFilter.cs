using System.Runtime.InteropServices;

namespace Runable.Sandboxes.Seccomp;

/// <summary>
/// Builds the sandbox's system-call filter with libseccomp and writes it as a BPF program, which bubblewrap
/// loads (after setting no_new_privs) for every process of the sandbox. Refused calls fail with EPERM;
/// calls of another architecture kill the process.
/// </summary>
public static partial class SeccompFilter
{
    /// <summary>System calls refused outright: mounts, kernel and key management, tracing, new namespaces.</summary>
    public static readonly IReadOnlyList<string> Refused =
    [
        "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
        "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
        "kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module", "delete_module",
        "bpf", "perf_event_open", "userfaultfd",
        "keyctl", "add_key", "request_key",
        "open_by_handle_at", "name_to_handle_at",
        "unshare", "setns",
        "swapon", "swapoff", "acct", "syslog", "quotactl", "iopl", "ioperm", "lookup_dcookie",
    ];

    private const uint ActAllow = 0x7fff0000;
    private const int EPERM = 1;
    private const int ENOSYS = 38;
    private const int CmpEq = 4;
    private const int CmpMaskedEq = 7;
    private const ulong CloneNewUser = 0x10000000;
    private const ulong Tiocsti = 0x5412;
    private const ulong Tioclinux = 0x541C;

    [StructLayout(LayoutKind.Sequential)]
    private struct ArgumentComparison
    {
        public uint Argument;
        public int Operation;
        public ulong DatumA;
        public ulong DatumB;
    }

    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_init")]
    private static partial nint Init(uint defaultAction);

    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_release")]
    private static partial void Release(nint context);

    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ResolveName(string name);

    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_rule_add_array")]
    private static unsafe partial int RuleAdd(nint context, uint action, int syscall, uint argumentCount, ArgumentComparison* arguments);

    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_export_bpf")]
    private static partial int ExportBpf(nint context, int fd);

    private static uint Errno(int errno) => 0x00050000u | (uint)(errno & 0xffff);

    // The program is the same for every sandbox: built once, then copied.
    private static readonly Lazy<byte[]> s_program = new(Build);

    /// <summary>Writes the filter's BPF program to <paramref name="path"/>.</summary>
    public static void Write(string path) => File.WriteAllBytes(path, s_program.Value);

    private static unsafe byte[] Build()
    {
        var context = Init(ActAllow);
        if (context == 0)
        {
            throw new InvalidOperationException("seccomp_init failed.");
        }

        try
        {
            foreach (var name in Refused)
            {
                var number = ResolveName(name);
                if (number >= 0)
                {
                    Check(RuleAdd(context, Errno(EPERM), number, 0, null), name);
                }
            }

            // New user namespaces through clone(CLONE_NEWUSER); clone3 passes its flags in memory that a filter
            // cannot read, so it reports ENOSYS and libc falls back to clone.
            var clone = new ArgumentComparison { Argument = 0, Operation = CmpMaskedEq, DatumA = CloneNewUser, DatumB = CloneNewUser };
            Check(RuleAdd(context, Errno(EPERM), ResolveName("clone"), 1, &clone), "clone");
            Check(RuleAdd(context, Errno(ENOSYS), ResolveName("clone3"), 0, null), "clone3");

            // Typing into the terminal of another process (TIOCSTI) or the console (TIOCLINUX).
            foreach (var request in new[] { Tiocsti, Tioclinux })
            {
                var ioctl = new ArgumentComparison { Argument = 1, Operation = CmpMaskedEq, DatumA = 0xFFFFFFFF, DatumB = request };
                Check(RuleAdd(context, Errno(EPERM), ResolveName("ioctl"), 1, &ioctl), "ioctl");
            }

            var path = Path.GetTempFileName();
            try
            {
                using (var file = File.Create(path))
                {
                    Check(ExportBpf(context, (int)file.SafeFileHandle.DangerousGetHandle()), "export");
                }

                return File.ReadAllBytes(path);
            }
            finally
            {
                File.Delete(path);
            }
        }
        finally
        {
            Release(context);
        }
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"Building the seccomp filter failed at '{what}' (error {result}).");
        }
    }
}
