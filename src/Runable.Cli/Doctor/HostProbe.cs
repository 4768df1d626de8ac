using System.Diagnostics;

namespace Runable.Cli.Doctor;

/// <summary>Runs a host program briefly to learn its version; never throws and never waits long.</summary>
public static partial class HostProbe
{
    /// <summary>Runs <paramref name="program"/> with <paramref name="arguments"/>; null when it is missing, fails or takes longer than <paramref name="timeout"/>.</summary>
    public static string? Run(string program, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        try
        {
            var info = new ProcessStartInfo(program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info);
            if (process is null)
            {
                return null;
            }

            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(3)))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }

            var output = (stdout.Result + "\n" + stderr.Result).Trim();
            return process.ExitCode == 0 || output.Length > 0 ? output : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    /// <summary>The version number in the first line of <paramref name="output"/> (e.g. "5.2.15"), or that line, shortened.</summary>
    public static string FirstLine(string? output)
    {
        var line = output?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        var version = VersionPattern().Match(line);
        if (version.Success)
        {
            return version.Value;
        }

        return line.Length > 40 ? line[..40] + "…" : line;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\d+\.\d+(\.\d+)*([-+~.][0-9A-Za-z.+~-]*)?")]
    private static partial System.Text.RegularExpressions.Regex VersionPattern();

    /// <summary>The version of an installed Debian package, or null.</summary>
    public static string? DebianPackageVersion(string package)
    {
        var version = Run("dpkg-query", ["-W", "-f", "${Version}", package]);
        return string.IsNullOrWhiteSpace(version) || version.Contains("no packages", StringComparison.OrdinalIgnoreCase) ? null : version.Trim();
    }
}
