using System.Runtime.InteropServices;

namespace Runable.Cli.Doctor;

/// <summary>Checks that seccomp filters can be installed: libseccomp loads, and the kernel has seccomp.</summary>
/// <param name="statusFile">The process status file with the kernel's <c>Seccomp:</c> field.</param>
public sealed class SeccompProbe(string statusFile = "/proc/self/status")
{
    /// <summary>The library the sandboxes' filters are compiled with.</summary>
    public const string LibraryName = "libseccomp.so.2";

    /// <summary>Loads libseccomp to read its version, and reads this process's seccomp mode.</summary>
    public HostCheck Check(string fix)
    {
        var version = LibraryVersion();
        var mode = KernelMode();
        var modeText = mode switch
        {
            null => "the kernel has no seccomp (no Seccomp field in /proc/self/status)",
            "0" => "kernel seccomp: yes; this process is not filtered",
            "1" => "kernel seccomp: yes; this process is in strict mode",
            "2" => "kernel seccomp: yes; this process already runs under a filter (more can be stacked)",
            _ => $"kernel seccomp mode {mode}",
        };

        if (version is null)
        {
            return new HostCheck("seccomp", CheckStatus.Missing)
            {
                Detail = $"{LibraryName} cannot be loaded; {modeText}",
                Fix = fix,
            };
        }

        return mode is null
            ? new HostCheck("seccomp", CheckStatus.Limited)
            {
                Version = version,
                Detail = modeText,
                Fix = "use a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER",
            }
            : new HostCheck("seccomp", CheckStatus.Found) { Version = version, Detail = modeText };
    }

    private static unsafe string? LibraryVersion()
    {
        if (!NativeLibrary.TryLoad(LibraryName, out var library))
        {
            return null;
        }

        try
        {
            if (!NativeLibrary.TryGetExport(library, "seccomp_version", out var export))
            {
                return "unknown";
            }

            var version = ((delegate* unmanaged<ScmpVersion*>)export)();
            return version is null ? "unknown" : $"{version->Major}.{version->Minor}.{version->Micro}";
        }
        finally
        {
            NativeLibrary.Free(library);
        }
    }

    private string? KernelMode()
    {
        try
        {
            return File.ReadLines(statusFile)
                .Where(l => l.StartsWith("Seccomp:", StringComparison.Ordinal))
                .Select(l => l["Seccomp:".Length..].Trim())
                .FirstOrDefault();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>libseccomp's <c>struct scmp_version</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct ScmpVersion
    {
        public readonly uint Major;
        public readonly uint Minor;
        public readonly uint Micro;
    }
}
