using System.Diagnostics;
using Runable.Cli.Doctor;

namespace Runable.Cli.Tests.Doctor;

/// <summary>The doctor run against this host, for real: the programs it finds are the ones installed here.</summary>
public sealed class HostDoctorTests
{
    [Fact]
    public async Task Doctor_Bash_IsFoundWithVersionAndMarkedRequired()
    {
        var check = await FindAsync("bash");

        Assert.Equal(CheckStatus.Found, check.Status);
        Assert.Matches(@"^\d+\.\d+", check.Version);
        Assert.True(check.Required);
        Assert.Null(check.Fix);
    }

    [Fact]
    public async Task Doctor_Setsid_IsFoundWithVersionAndMarkedRequired()
    {
        var check = await FindAsync("setsid (util-linux)");

        Assert.Equal(CheckStatus.Found, check.Status);
        Assert.Matches(@"^\d+\.\d+", check.Version);
        Assert.True(check.Required);
    }

    [Fact]
    public async Task Doctor_EveryCheck_IsReportedOnceAndNoneBreaks()
    {
        var checks = await new HostDoctor().RunAsync(TestContext.Current.CancellationToken);

        string[] expected =
        [
            "bash", "setsid (util-linux)", "bubblewrap", "cgroups", "seccomp", "kvm", "Xvfb", "xdotool", "x11vnc",
            "noVNC", "websockify", "python3", "ipykernel", "node", "tslab", "chromium", "postgresql",
        ];
        Assert.Equal(expected, checks.Select(c => c.What));
        Assert.All(checks, c =>
        {
            Assert.DoesNotContain("the check failed", c.Detail ?? "", StringComparison.Ordinal);
            Assert.NotEmpty(c.UsedFor);
            Assert.True(c.Status == CheckStatus.Found || !string.IsNullOrEmpty(c.Fix) || c.Detail is not null,
                $"{c.What} is {c.Status} without a fix or a reason");
        });
        Assert.Equal(["bash", "setsid (util-linux)"], checks.Where(c => c.Required).Select(c => c.What));
    }

    [Fact]
    public async Task Doctor_MissingProgram_ReportsFixCommand()
    {
        var check = await new HostDoctor(privileged: true).CheckProgramAsync(
            new ProgramCheck("frobnicator", "runable-no-such-program-3f9c", ["--version"], "apt-get install -y frobnicator"),
            TestContext.Current.CancellationToken);

        Assert.Equal(CheckStatus.Missing, check.Status);
        Assert.Equal("apt-get install -y frobnicator", check.Fix);
        Assert.Null(check.Version);
        Assert.Contains("runable-no-such-program-3f9c", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_MissingPieceWhenNotRoot_PrefixesFixWithSudo()
    {
        var checks = await new HostDoctor(privileged: false).RunAsync(TestContext.Current.CancellationToken);

        Assert.All(checks.Where(c => c.Fix is not null && c.Fix.Contains("apt-get", StringComparison.Ordinal)),
            c => Assert.StartsWith("sudo apt-get install -y ", c.Fix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Doctor_ProbeThatFails_IsLimitedOrMissingAsTheCheckSays()
    {
        var doctor = new HostDoctor();
        var failing = new ProgramCheck("broken", "bash", ["-c", "echo 'No module named x' >&2; exit 3"], "fix-it");

        var limited = await doctor.CheckProgramAsync(failing, TestContext.Current.CancellationToken);
        var missing = await doctor.CheckProgramAsync(failing with { FailureMeansMissing = true }, TestContext.Current.CancellationToken);

        Assert.Equal(CheckStatus.Limited, limited.Status);
        Assert.Equal(CheckStatus.Missing, missing.Status);
        Assert.Equal("fix-it", missing.Fix);
        Assert.Contains("exited with code 3: No module named x", missing.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_ProgramThatHangs_IsLimitedWithinTheTimeoutAndKilled()
    {
        var marker = $"runable-hang-{Guid.NewGuid():N}";
        var doctor = new HostDoctor(timeout: TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();

        var check = await doctor.CheckProgramAsync(
            new ProgramCheck("hang", "bash", ["-c", $"sleep 60 # {marker}"], "none"), TestContext.Current.CancellationToken);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(CheckStatus.Limited, check.Status);
        Assert.Contains("did not answer within 0.5 s", check.Detail, StringComparison.Ordinal);
        Assert.False(ProcessWithArgumentExists(marker), "the hanging probe was left running");
    }

    [Theory]
    [InlineData("GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)", "5.2.15")]
    [InlineData("setsid from util-linux 2.38.1", "2.38.1")]
    [InlineData("Chromium 156.0.8078.108 built on Debian GNU/Linux 12 (bookworm)", "156.0.8078.108")]
    [InlineData("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", "15.18")]
    [InlineData("v20.20.2", "20.20.2")]
    [InlineData("2:21.1.7-3+deb12u13", "21.1.7")]
    [InlineData("no version here", null)]
    public void ParseVersion_ProgramOutput_ReturnsTheDottedNumber(string output, string? expected) =>
        Assert.Equal(expected, HostDoctor.ParseVersion(output));

    [Fact]
    public void Kvm_NoDevice_IsMissingWithHowToEnableIt()
    {
        var check = new KvmProbe("/nonexistent/kvm").Check(privileged: true);

        Assert.Equal(CheckStatus.Missing, check.Status);
        Assert.Contains("modprobe kvm", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Seccomp_KernelWithFilterMode_IsFoundWithLibraryVersion()
    {
        Assert.SkipUnless(System.Runtime.InteropServices.NativeLibrary.TryLoad(SeccompProbe.LibraryName, out _),
            "libseccomp.so.2 is not installed here (apt-get install -y libseccomp2)");
        var status = Path.GetTempFileName();
        File.WriteAllText(status, "Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t1\n");

        var check = new SeccompProbe(status).Check("apt-get install -y libseccomp2");

        Assert.Equal(CheckStatus.Found, check.Status);
        Assert.Matches(@"^\d+\.\d+\.\d+$", check.Version);
        Assert.Contains("already runs under a filter", check.Detail, StringComparison.Ordinal);
        File.Delete(status);
    }

    [Fact]
    public void Seccomp_KernelWithoutSeccomp_IsLimited()
    {
        Assert.SkipUnless(System.Runtime.InteropServices.NativeLibrary.TryLoad(SeccompProbe.LibraryName, out _),
            "libseccomp.so.2 is not installed here (apt-get install -y libseccomp2)");
        var status = Path.GetTempFileName();
        File.WriteAllText(status, "Name:\tx\n");

        var check = new SeccompProbe(status).Check("apt-get install -y libseccomp2");

        Assert.Equal(CheckStatus.Limited, check.Status);
        Assert.Contains("CONFIG_SECCOMP", check.Fix, StringComparison.Ordinal);
        File.Delete(status);
    }

    private static async Task<HostCheck> FindAsync(string what)
    {
        var checks = await new HostDoctor().RunAsync(TestContext.Current.CancellationToken);
        return Assert.Single(checks, c => c.What == what);
    }

    private static bool ProcessWithArgumentExists(string marker)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
                if (commandLine.Contains(marker, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process exited while we looked.
            }
        }

        return false;
    }
}
