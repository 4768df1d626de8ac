using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Runable.Cli.Doctor;

/// <summary>Checks that KVM, which microVM sandboxes need, is there and can be opened read-write.</summary>
/// <param name="device">The KVM device.</param>
public sealed partial class KvmProbe(string device = "/dev/kvm")
{
    // _IO(KVMIO, 0x00): the API version, 12 on every kernel since 2.6.22.
    private const nuint KvmGetApiVersion = 0xAE00;

    /// <summary>Opens the device read-write and asks it its API version.</summary>
    public HostCheck Check(bool privileged)
    {
        if (!File.Exists(device))
        {
            return new HostCheck("kvm", CheckStatus.Missing)
            {
                Detail = $"{device} does not exist (no hardware virtualization, or the module is not loaded)",
                Fix = "enable virtualization (VT-x/AMD-V, or nested virtualization in a VM), then: modprobe kvm_intel (or kvm_amd)",
            };
        }

        try
        {
            using var handle = File.OpenHandle(device, FileMode.Open, FileAccess.ReadWrite);
            var version = IoctlNoArgument(handle, KvmGetApiVersion, 0);
            return new HostCheck("kvm", CheckStatus.Found)
            {
                Version = version >= 0 ? $"API {version}" : null,
                Detail = $"{device} opens read-write",
            };
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return new HostCheck("kvm", CheckStatus.Limited)
            {
                Detail = $"{device} exists but cannot be opened read-write: {e.Message}",
                Fix = privileged
                    ? $"give the container the device (docker run --device {device}) or fix its mode: chmod 660 {device}"
                    : "sudo usermod -aG kvm $USER, then log in again",
            };
        }
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlNoArgument(SafeFileHandle fd, nuint request, nint argument);
}
