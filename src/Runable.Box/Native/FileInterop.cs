using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Runable.Box.Native;

/// <summary>
/// The *at system calls the file service resolves every path with: openat2 with RESOLVE_BENEATH makes the
/// kernel refuse any resolution that leaves the starting directory, at the moment of use.
/// </summary>
internal static unsafe partial class FileInterop
{
    public const int ORdOnly = 0x0;
    public const int OWrOnly = 0x1;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int OTrunc = 0x200;
    public const int ONonBlock = 0x800;
    public const int ODirectory = 0x10000;
    public const int ONoFollow = 0x20000;
    public const int OCloExec = 0x80000;
    public const int OPath = 0x200000;

    public const ulong ResolveNoMagicLinks = 0x02;
    public const ulong ResolveBeneath = 0x08;

    public const int AtSymlinkNoFollow = 0x100;
    public const int AtRemoveDir = 0x200;
    public const int AtEmptyPath = 0x1000;
    public const uint RenameNoReplace = 1;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;

    private const long SysOpenat2 = 437;
    private const uint StatxBasicStats = 0x7ff;

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Openat2Syscall(long number, int dirfd, byte* path, OpenHow* how, nuint size);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true)]
    private static partial int MkdiratNative(int dirfd, byte* path, uint mode);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
    private static partial int UnlinkatNative(int dirfd, byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    private static partial int Renameat2Native(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, uint flags);

    [LibraryImport("libc", EntryPoint = "symlinkat", SetLastError = true)]
    private static partial int SymlinkatNative(byte* target, int newdirfd, byte* linkpath);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true)]
    private static partial nint ReadlinkatNative(int dirfd, byte* path, byte* buffer, nuint size);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static partial int StatxNative(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    /// <summary>openat2(2): opens <paramref name="path"/> relative to <paramref name="dir"/>; returns the descriptor or -errno.</summary>
    public static SafeFileHandle Openat2(SafeFileHandle dir, string path, int flags, int mode, ulong resolve, out int errno)
    {
        var how = new OpenHow { Flags = (ulong)(flags | OCloExec), Mode = (ulong)mode, Resolve = resolve };
        var bytes = CString(path);
        long fd;
        fixed (byte* p = bytes)
        {
            fd = Openat2Syscall(SysOpenat2, Fd(dir), p, &how, (nuint)sizeof(OpenHow));
        }

        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return new SafeFileHandle((nint)(fd < 0 ? -1 : fd), ownsHandle: true);
    }

    public static int Mkdirat(SafeFileHandle dir, string name, int mode) =>
        Call(CString(name), p => MkdiratNative(Fd(dir), p, (uint)mode));

    public static int Unlinkat(SafeFileHandle dir, string name, int flags) =>
        Call(CString(name), p => UnlinkatNative(Fd(dir), p, flags));

    public static int Renameat2(SafeFileHandle oldDir, string oldName, SafeFileHandle newDir, string newName, uint flags)
    {
        var oldBytes = CString(oldName);
        var newBytes = CString(newName);
        fixed (byte* o = oldBytes)
        fixed (byte* n = newBytes)
        {
            return Renameat2Native(Fd(oldDir), o, Fd(newDir), n, flags) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    public static int Symlinkat(string target, SafeFileHandle dir, string name)
    {
        var targetBytes = CString(target);
        var nameBytes = CString(name);
        fixed (byte* t = targetBytes)
        fixed (byte* n = nameBytes)
        {
            return SymlinkatNative(t, Fd(dir), n) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>The target stored in the symlink <paramref name="name"/> of <paramref name="dir"/>, or null.</summary>
    public static string? Readlinkat(SafeFileHandle dir, string name)
    {
        var nameBytes = CString(name);
        var buffer = new byte[4096];
        nint length;
        fixed (byte* n = nameBytes)
        fixed (byte* b = buffer)
        {
            length = ReadlinkatNative(Fd(dir), n, b, (nuint)buffer.Length);
        }

        return length < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    /// <summary>statx(2) of <paramref name="name"/> in <paramref name="dir"/> (the directory itself when empty), never following a final symlink.</summary>
    public static int Statx(SafeFileHandle dir, string name, out FileStatus status)
    {
        var buffer = stackalloc byte[256];
        var nameBytes = CString(name);
        int result;
        fixed (byte* n = nameBytes)
        {
            result = StatxNative(Fd(dir), n, AtSymlinkNoFollow | (name.Length == 0 ? AtEmptyPath : 0), StatxBasicStats, buffer);
        }

        if (result != 0)
        {
            status = default;
            return Marshal.GetLastPInvokeError();
        }

        status = new FileStatus(
            Mode: *(ushort*)(buffer + 28),
            Size: *(long*)(buffer + 40),
            ModifiedSeconds: *(long*)(buffer + 112),
            ModifiedNanoseconds: *(uint*)(buffer + 120));
        return 0;
    }

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private static byte[] CString(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    private delegate int PathCall(byte* path);

    private static int Call(byte[] path, PathCall call)
    {
        fixed (byte* p = path)
        {
            return call(p) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }
}

/// <summary>What statx reported of a file.</summary>
internal readonly record struct FileStatus(ushort Mode, long Size, long ModifiedSeconds, uint ModifiedNanoseconds)
{
    private const int TypeMask = 0xF000;

    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    public bool IsRegular => (Mode & TypeMask) == 0x8000;

    public bool IsSymlink => (Mode & TypeMask) == 0xA000;

    public int Permissions => Mode & 0xFFF;

    public DateTimeOffset Modified => DateTimeOffset.FromUnixTimeSeconds(ModifiedSeconds).AddTicks(ModifiedNanoseconds / 100);
}
