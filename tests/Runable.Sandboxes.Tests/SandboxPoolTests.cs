using Microsoft.Extensions.Logging.Abstractions;

namespace Runable.Sandboxes.Tests;

public sealed class SandboxPoolTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Claim_FromAFilledPool_HandsOutAReadySandboxAndRefills()
    {
        await using var pool = new SandboxPool(fixture.Backend, size: 2, NullLogger<SandboxPool>.Instance);
        await pool.FillAsync(Ct);
        Assert.Equal(2, pool.ReadyCount);

        var claimedAt = DateTimeOffset.UtcNow;
        var sandbox = await pool.ClaimAsync(new SandboxSpec(), Ct);
        using (var box = SandboxFixture.Connect(sandbox))
        {
            Assert.Equal("ready\n", (await box.ExecAsync("echo ready", cancellationToken: Ct)).Stdout);
        }

        Assert.True(sandbox.CreatedAt < claimedAt, "the claim must hand out a sandbox started before it, not start one");
        for (var i = 0; i < 100 && pool.ReadyCount < 2; i++)
        {
            await Task.Delay(100, Ct);
        }

        Assert.Equal(2, pool.ReadyCount);
        await fixture.Backend.DestroyAsync(sandbox.Id, Ct);
    }

    [Fact]
    public async Task Claim_WithOtherLimits_StartsANewSandbox()
    {
        await using var pool = new SandboxPool(fixture.Backend, size: 1, NullLogger<SandboxPool>.Instance);
        await pool.FillAsync(Ct);
        var sandbox = await pool.ClaimAsync(new SandboxSpec { Limits = new SandboxLimits { Pids = 64 } }, Ct);
        Assert.True(fixture.Backend.IsRunning(sandbox.Id));
        Assert.Equal(1, pool.ReadyCount);
        await fixture.Backend.DestroyAsync(sandbox.Id, Ct);
    }
}
