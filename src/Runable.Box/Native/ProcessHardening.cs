using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Runable.Box.Native;

/// <summary>Keeps the box's own process out of reach of the commands it runs.</summary>
public static partial class ProcessHardening
{
    private const int PrSetDumpable = 4;

    /// <summary>
    /// Marks this process not dumpable. Inside a sandbox the commands run as the box's own user; without this they
    /// could read the box's memory and environment (its token) through <c>/proc/PID/mem</c>, <c>environ</c> and
    /// <c>fd</c>, or attach to it. The flag is not inherited across <c>execve</c>, so the commands themselves are
    /// unaffected.
    /// </summary>
    public static void MakeUndumpable()
    {
        if (OperatingSystem.IsLinux() && prctl(PrSetDumpable, 0, 0, 0, 0) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "prctl(PR_SET_DUMPABLE, 0) failed");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
