using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Runable.Cli.Commands;
using Runable.Cli.Remote;

namespace Runable.Cli.Tests.Commands;

/// <summary><c>runable sandbox</c> and <c>runable shell</c> against a real orchestrator.</summary>
public sealed class SandboxCommandTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sandbox_CreateListExecShellRemove_WorkEndToEnd()
    {
        var created = await CliRun.RunAsync(["sandbox", "create"], orchestrator.Environment, cancellationToken: Cancellation);
        Assert.Equal(0, created.ExitCode);
        var id = created.Output.TrimEnd('\n');
        Assert.Matches(@"^\S+$", id);

        var listed = await CliRun.RunAsync(["sandbox", "ls"], orchestrator.Environment, cancellationToken: Cancellation);
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains(listed.Output.Split('\n'), line => line.Contains(id, StringComparison.Ordinal) &&
            line.Contains("running", StringComparison.Ordinal) && line.Contains("bubblewrap", StringComparison.Ordinal));

        var exec = await CliRun.RunAsync(["sandbox", "exec", id, "--", "echo hi; echo oops >&2; exit 3"], orchestrator.Environment,
            cancellationToken: Cancellation);
        Assert.Equal(3, exec.ExitCode);
        Assert.Equal("hi\n", exec.Output);
        Assert.Equal("oops\n", exec.Error);

        var words = await CliRun.RunAsync(["sandbox", "exec", id, "--timeout", "30", "--", "echo", "a", "b"], orchestrator.Environment,
            cancellationToken: Cancellation);
        Assert.Equal(0, words.ExitCode);
        Assert.Equal("a b\n", words.Output);

        // The echo of the typed line holds the expression; only the shell's answer holds 42.
        var shell = await RunShellAsync(id, "echo from-shell-$((6*7)); exit\n");
        Assert.Equal(0, shell.ExitCode);
        Assert.Contains("from-shell-42", shell.Output, StringComparison.Ordinal);

        var removed = await CliRun.RunAsync(["sandbox", "rm", id], orchestrator.Environment, cancellationToken: Cancellation);
        Assert.Equal(0, removed.ExitCode);
        Assert.Equal(id + "\n", removed.Output);

        var after = await CliRun.RunAsync(["sandbox", "ls", "--json"], orchestrator.Environment, cancellationToken: Cancellation);
        Assert.Equal(0, after.ExitCode);
        Assert.DoesNotContain(JsonNode.Parse(after.Output)!.AsArray(), s => (string?)s?["id"] == id);
    }

    [Fact]
    public async Task Create_WithOptions_SendsLimitsNetworkAndIdleTimeout()
    {
        var created = await CliRun.RunAsync(["sandbox", "create", "--memory-mb", "512", "--pids", "128", "--cpus", "0.5", "--tmp-mb", "64",
            "--allow", "example.com", "--allow", "*.example.org", "--idle-timeout", "600", "--json",
            "--server", orchestrator.Url, "--key", orchestrator.AdminKey], cancellationToken: Cancellation);
        Assert.Equal(0, created.ExitCode);
        var sandbox = JsonNode.Parse(created.Output)!;
        try
        {
            Assert.Equal(512, (int)sandbox["limits"]!["memory_mb"]!);
            Assert.Equal(128, (int)sandbox["limits"]!["pids"]!);
            Assert.Equal(0.5, (double)sandbox["limits"]!["cpus"]!);
            Assert.Equal(64, (int)sandbox["limits"]!["tmp_mb"]!);
            Assert.Equal("allowlist", (string?)sandbox["network"]!["mode"]);
            Assert.Equal(["example.com", "*.example.org"], sandbox["network"]!["allow"]!.AsArray().Select(a => (string?)a));
            Assert.Equal(600, (double)sandbox["idle_timeout_s"]!);
        }
        finally
        {
            await CliRun.RunAsync(["sandbox", "rm", (string)sandbox["id"]!], orchestrator.Environment, cancellationToken: Cancellation);
        }
    }

    [Theory]
    [InlineData("sandbox", "ls")]
    [InlineData("sandbox", "exec", "sbx_whatever", "--", "true")]
    [InlineData("shell", "sbx_whatever")]
    public async Task WrongKey_ExitsOneWithTheProblem(params string[] args)
    {
        var environment = new Dictionary<string, string> { ["RUNABLE_SERVER"] = orchestrator.Url, ["RUNABLE_API_KEY"] = "wrong" };

        var result = await CliRun.RunAsync(args, environment, cancellationToken: Cancellation);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: A valid key is required", result.Error, StringComparison.Ordinal);
        Assert.Contains("(unauthorized)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownSandbox_ExitsOneWithTheProblem()
    {
        var result = await CliRun.RunAsync(["sandbox", "rm", "sbx_nope"], orchestrator.Environment, cancellationToken: Cancellation);

        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"^error: .+ \(\w+\)\n$", result.Error);
    }

    [Theory]
    [InlineData("sandbox", "ls")]
    [InlineData("sandbox", "create")]
    [InlineData("sandbox", "exec", "sbx_whatever", "--", "true")]
    [InlineData("shell", "sbx_whatever")]
    public async Task NoServer_SaysHowToStartOne(params string[] args)
    {
        var environment = new Dictionary<string, string> { ["RUNABLE_SERVER"] = $"http://127.0.0.1:{FreePort()}", ["RUNABLE_API_KEY"] = "k" };

        var result = await CliRun.RunAsync(args, environment, cancellationToken: Cancellation);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot connect to the orchestrator", result.Error, StringComparison.Ordinal);
        Assert.Contains("./run", result.Error, StringComparison.Ordinal);
        Assert.Contains("runable serve", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveKey_OptionThenEnvironmentThenAdminKeyFile()
    {
        var directory = Directory.CreateTempSubdirectory("runable-cli-key-").FullName;
        try
        {
            var none = new Dictionary<string, string?>();
            Assert.Null(OrchestratorConnection.ResolveKey(null, none.GetValueOrDefault, directory));
            Directory.CreateDirectory(Path.Combine(directory, ".runable"));
            File.WriteAllText(Path.Combine(directory, ".runable", "admin.key"), "from-file\n");
            Assert.Equal("from-file", OrchestratorConnection.ResolveKey(null, none.GetValueOrDefault, directory));
            var agent = new Dictionary<string, string?> { ["AGENT_API_KEY"] = "from-agent" };
            Assert.Equal("from-agent", OrchestratorConnection.ResolveKey(null, agent.GetValueOrDefault, directory));
            var both = new Dictionary<string, string?> { ["AGENT_API_KEY"] = "from-agent", ["RUNABLE_API_KEY"] = "from-runable" };
            Assert.Equal("from-runable", OrchestratorConnection.ResolveKey(null, both.GetValueOrDefault, directory));
            Assert.Equal("from-option", OrchestratorConnection.ResolveKey("from-option", both.GetValueOrDefault, directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void ResolveServer_OptionThenEnvironmentThenDefault()
    {
        var environment = new Dictionary<string, string?> { ["RUNABLE_SERVER"] = "http://10.0.0.1:5100" };

        Assert.Equal("http://a:1", OrchestratorConnection.ResolveServer("http://a:1", environment.GetValueOrDefault));
        Assert.Equal("http://10.0.0.1:5100", OrchestratorConnection.ResolveServer(null, environment.GetValueOrDefault));
        Assert.Equal("http://127.0.0.1:5100", OrchestratorConnection.ResolveServer(null, _ => null));
    }

    /// <summary>Runs <c>runable shell</c> with <paramref name="input"/> as its standard input.</summary>
    private async Task<CliResult> RunShellAsync(string id, string input)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var environment = orchestrator.Environment;
        var root = new RootCommand { ShellCommand.Create(name => environment.GetValueOrDefault(name), () => new MemoryStream(Encoding.UTF8.GetBytes(input))) };
        var output = new WatchedWriter();
        var error = new WatchedWriter();
        var exitCode = await root.Parse(["shell", id]).InvokeAsync(
            new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, timeout.Token);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
