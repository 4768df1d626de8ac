using System.Text.Json;

namespace Runable.Cli.Tests.Commands;

/// <summary><c>runable doctor</c> as a user runs it.</summary>
public sealed class DoctorCommandTests
{
    [Fact]
    public async Task DoctorCommand_Json_ParsesWithEveryCheckAndAStatusWord()
    {
        var result = await CliRun.RunAsync(["doctor", "--json"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Output);
        var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToList();
        Assert.True(checks.Count >= 17, $"only {checks.Count} checks");
        Assert.All(checks, c => Assert.Contains(c.GetProperty("status").GetString(), new[] { "found", "missing", "limited" }));
        var bash = Assert.Single(checks, c => c.GetProperty("what").GetString() == "bash");
        Assert.Equal("found", bash.GetProperty("status").GetString());
        Assert.True(bash.GetProperty("required").GetBoolean());
        Assert.True(json.RootElement.GetProperty("box_ready").GetBoolean());
    }

    [Fact]
    public async Task DoctorCommand_Table_ShowsEveryPieceTheRequiredOnesAndExitsZero()
    {
        var result = await CliRun.RunAsync(["doctor"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        foreach (var header in new[] { "what", "status", "version", "fix" })
        {
            Assert.Contains(header, result.Output, StringComparison.Ordinal);
        }

        Assert.Contains("bash (required)", result.Output, StringComparison.Ordinal);
        Assert.Contains("setsid (util-linux) (required)", result.Output, StringComparison.Ordinal);
        Assert.Contains("bubblewrap", result.Output, StringComparison.Ordinal);
        Assert.Contains("The box has what it needs.", result.Output, StringComparison.Ordinal);
    }
}
