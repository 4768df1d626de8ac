using System.Diagnostics;

namespace Runable.Bench;

/// <summary>
/// Plain bwrap with new namespaces (user, pid, net, ipc, uts, cgroup) and the host's /usr read-only, without
/// Runable: the baseline of the sandbox figures.
/// </summary>
public static class BwrapBaseline
{
    /// <summary>Starts <paramref name="command"/> in the baseline bwrap, its output inherited.</summary>
    public static Process Start(params string[] command)
    {
        var info = new ProcessStartInfo("bwrap") { UseShellExecute = false };
        foreach (var argument in (string[])["--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--proc", "/proc", "--dev", "/dev", .. command])
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("Could not start bwrap.");
    }

    /// <summary>Times bwrap running <c>/bin/true</c>.</summary>
    public static Task<Measurement> MeasureTrueAsync(int count) =>
        Measurement.RunAsync("bwrap (new namespaces) /bin/true", count, 2, async () =>
        {
            using var process = Start("/bin/true");
            await process.WaitForExitAsync();
        });
}
