using Runable.Cli.Doctor;

namespace Runable.Cli.Tests.Doctor;

/// <summary>The cgroup check against small fake cgroup trees, one per layout Runable meets.</summary>
public sealed class CgroupProbeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("runable-cgroup-").FullName;
    private readonly string _self;

    public CgroupProbeTests() => _self = Path.Combine(_root, "self-cgroup");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Cgroups_PureV2WithEveryController_IsFoundInOwnCgroup()
    {
        Write("cgroup.controllers", "cpuset cpu io memory pids");
        Write("user.slice/me/cgroup.controllers", "cpu memory pids");
        File.WriteAllText(_self, "0::/user.slice/me\n");

        var check = new CgroupProbe(_root, _self).Check();

        Assert.Equal(CheckStatus.Found, check.Status);
        Assert.Equal("v2", check.Version);
        Assert.Contains($"memory: {_root}/user.slice/me", check.Detail, StringComparison.Ordinal);
        Assert.Null(check.Fix);
    }

    [Fact]
    public void Cgroups_PureV2WithoutPids_IsLimitedAndSaysHowToDelegate()
    {
        Write("cgroup.controllers", "cpu memory");
        File.WriteAllText(_self, "0::/\n");

        var check = new CgroupProbe(_root, _self).Check();

        Assert.Equal(CheckStatus.Limited, check.Status);
        Assert.Contains("pids: not usable", check.Detail, StringComparison.Ordinal);
        Assert.Contains("cgroup.subtree_control", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Cgroups_V1WithoutCpuBesideUnified_IsLimitedAndNamesTheMissingController()
    {
        Directory.CreateDirectory(Path.Combine(_root, "memory"));
        Directory.CreateDirectory(Path.Combine(_root, "pids"));
        Write("unified/cgroup.controllers", "hugetlb");

        var check = new CgroupProbe(_root, _self).Check();

        Assert.Equal(CheckStatus.Limited, check.Status);
        Assert.Equal($"v1 + v2 at {_root}/unified", check.Version);
        Assert.Contains($"memory: {_root}/memory", check.Detail, StringComparison.Ordinal);
        Assert.Contains("cpu: not usable", check.Detail, StringComparison.Ordinal);
        Assert.NotNull(check.Fix);
    }

    [Fact]
    public void Cgroups_ControllerOnlyInUnifiedHierarchy_IsUsableThere()
    {
        Directory.CreateDirectory(Path.Combine(_root, "memory"));
        Directory.CreateDirectory(Path.Combine(_root, "cpu"));
        Write("unified/cgroup.controllers", "pids");

        var check = new CgroupProbe(_root, _self).Check();

        Assert.Equal(CheckStatus.Found, check.Status);
        Assert.Contains($"pids: {_root}/unified", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Cgroups_NothingMounted_IsMissingWithMountCommand()
    {
        var check = new CgroupProbe(_root, _self).Check();

        Assert.Equal(CheckStatus.Missing, check.Status);
        Assert.Equal($"mount -t cgroup2 none {_root}", check.Fix);
    }

    [Fact]
    public void Cgroups_ProbeCgroup_IsRemovedAfterTheCheck()
    {
        Write("cgroup.controllers", "cpu memory pids");

        new CgroupProbe(_root, _self).Check();

        Assert.Equal(["cgroup.controllers"], Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName));
    }

    private void Write(string relative, string content)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }
}
