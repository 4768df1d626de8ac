using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Runable.Sandboxes.Network;

namespace Runable.Sandboxes.Tests.Network;

public sealed class EgressRulesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("93.184.215.14", true)]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700::1111", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.1.2.3", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.16.5.4", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::1", false)]
    [InlineData("::", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:169.254.169.254", false)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("64:ff9b::a9fe:a9fe", false)]
    [InlineData("2002:7f00:1::", false)]
    [InlineData("2001:db8::1", false)]
    public void IsPublic_RefusesEveryNonPublicRange(string address, bool expected) =>
        Assert.Equal(expected, AddressRules.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void Allowlist_MatchesNamesExactlyAndWildcardsBelowTheirDomain()
    {
        var policy = NetworkPolicy.AllowOnly(["Example.COM.", "*.pypi.org", "bücher.de"]);
        Assert.Equal(["example.com", "*.pypi.org", "xn--bcher-kva.de"], policy.Allow);
        Assert.True(policy.AllowsHost("example.com"));
        Assert.False(policy.AllowsHost("www.example.com"));
        Assert.False(policy.AllowsHost("example.com.evil.net"));
        Assert.True(policy.AllowsHost("files.pypi.org"));
        Assert.False(policy.AllowsHost("pypi.org"));
        Assert.False(policy.AllowsHost("evilpypi.org"));
        Assert.True(policy.AllowsHost("xn--bcher-kva.de"));
        Assert.False(NetworkPolicy.None.AllowsHost("example.com"));
        Assert.True(NetworkPolicy.Open.AllowsHost("example.com"));
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("[::1]")]
    [InlineData("")]
    [InlineData("exa mple.com")]
    [InlineData("-bad.com")]
    [InlineData("2130706433")]
    [InlineData("0x7f.0x1")]
    public void Allowlist_RefusesEntriesThatAreNotHostNames(string entry) =>
        Assert.Throws<ArgumentException>(() => NetworkPolicy.AllowOnly([entry]));

    [Fact]
    public async Task Decide_ChecksNamePolicyPortAndEveryResolvedAddress()
    {
        await using var proxy = new EgressProxy(new EgressOptions
        {
            Hosts = new Dictionary<string, IPAddress[]>
            {
                ["mirror.internal"] = [IPAddress.Parse("10.1.2.3")],
                ["metadata.test"] = [IPAddress.Parse("169.254.169.254")],
                ["mixed.test"] = [IPAddress.Parse("93.184.215.14"), IPAddress.Parse("127.0.0.1")],
            },
            TrustedAddresses = new HashSet<IPAddress> { IPAddress.Parse("10.1.2.3") },
        }, NullLogger<EgressProxy>.Instance, (name, _) => Task.FromResult(name == "public.test" ? new[] { IPAddress.Parse("93.184.215.14") } : []));
        proxy.ForbidPort(5100);
        var policy = NetworkPolicy.AllowOnly(["public.test", "mirror.internal", "metadata.test", "mixed.test", "nowhere.test"]);

        Assert.True((await proxy.DecideAsync(policy, "public.test", 443, Ct)).Allowed);
        Assert.True((await proxy.DecideAsync(policy, "PUBLIC.test.", 443, Ct)).Allowed);
        Assert.True((await proxy.DecideAsync(policy, "mirror.internal", 80, Ct)).Allowed);
        Assert.Contains("allowlist", (await proxy.DecideAsync(policy, "other.test", 443, Ct)).Refusal);
        Assert.Contains("IP addresses", (await proxy.DecideAsync(NetworkPolicy.Open, "93.184.215.14", 443, Ct)).Refusal);
        Assert.Contains("IP addresses", (await proxy.DecideAsync(NetworkPolicy.Open, "[::1]", 443, Ct)).Refusal);
        Assert.Contains("169.254.169.254", (await proxy.DecideAsync(policy, "metadata.test", 80, Ct)).Refusal);
        Assert.Contains("127.0.0.1", (await proxy.DecideAsync(policy, "mixed.test", 80, Ct)).Refusal);
        Assert.Contains("does not resolve", (await proxy.DecideAsync(policy, "nowhere.test", 80, Ct)).Refusal);
        Assert.Contains("port 5100", (await proxy.DecideAsync(policy, "public.test", 5100, Ct)).Refusal);
        Assert.False((await proxy.DecideAsync(NetworkPolicy.None, "public.test", 443, Ct)).Allowed);
    }
}
