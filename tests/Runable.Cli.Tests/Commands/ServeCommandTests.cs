namespace Runable.Cli.Tests.Commands;

/// <summary><c>runable serve</c>: options checked before anything starts.</summary>
public sealed class ServeCommandTests
{
    [Theory]
    [InlineData("--egress-host", "mirror.internal", "must be NAME=IP")]
    [InlineData("--egress-host", "10.0.0.1=10.0.0.1", "must be NAME=IP")]
    [InlineData("--egress-host", "mirror.internal=nowhere", "must be NAME=IP")]
    [InlineData("--egress-trust", "mirror.internal", "must be an IP address")]
    [InlineData("--host", "localhost", "--host must be an IP address")]
    public async Task Serve_InvalidOptions_ExitTwoSayingWhatToFix(string option, string value, string message)
    {
        var result = await CliRun.RunAsync(["serve", "--port", "0", option, value], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }
}
