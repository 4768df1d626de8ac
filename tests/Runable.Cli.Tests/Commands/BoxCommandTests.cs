using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Runable.Cli.Commands;

namespace Runable.Cli.Tests.Commands;

/// <summary><c>runable box</c>: refusing to start unsafely, and serving until told to stop.</summary>
public sealed partial class BoxCommandTests : IDisposable
{
    private readonly string _workspace = Directory.CreateTempSubdirectory("runable-cli-ws-").FullName;

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Fact]
    public async Task Box_NoKey_ExitsTwoAndSaysHowToPassOne()
    {
        var result = await CliRun.RunAsync(["box", "--workspace", _workspace], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--api-key", result.Error, StringComparison.Ordinal);
        Assert.Contains("RUNABLE_BOX_TOKEN", result.Error, StringComparison.Ordinal);
        Assert.Contains("--insecure-no-auth", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task Box_MissingWorkspace_ExitsTwoAndNamesIt()
    {
        var missing = Path.Combine(_workspace, "nope");

        var result = await CliRun.RunAsync(["box", "--api-key", "k", "--workspace", missing],
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"mkdir -p {missing}", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--port", "5002", "--unix-socket", "/tmp/x.sock")]
    [InlineData("--api-key", "k", "--insecure-no-auth", "true")]
    [InlineData("--host", "localhost", "--api-key", "k")]
    public async Task Box_ConflictingOrInvalidOptions_AreRejectedBeforeStarting(string a, string aValue, string b, string bValue)
    {
        var result = await CliRun.RunAsync(["box", "--workspace", _workspace, a, aValue, b, bValue],
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(a, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Box_UnknownArgument_ExitsTwo()
    {
        var result = await CliRun.RunAsync(["box", "--api-key", "k", "--workspace", _workspace, "--prot", "5002"],
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown argument --prot", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("from-option", "from-token", "from-agent", "from-option")]
    [InlineData(null, "from-token", "from-agent", "from-token")]
    [InlineData(null, "", "from-agent", "from-agent")]
    [InlineData(null, null, null, null)]
    public void ResolveApiKey_OptionThenRunableTokenThenAgentKey(string? option, string? token, string? agent, string? expected)
    {
        var environment = new Dictionary<string, string?> { ["RUNABLE_BOX_TOKEN"] = token, ["AGENT_API_KEY"] = agent };

        Assert.Equal(expected, BoxCommand.ResolveApiKey(option, environment.GetValueOrDefault));
    }

    [Fact]
    public async Task Box_KeyFromEnvironment_ServesAndRequiresThatKeyUntilCancelled()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var output = new WatchedWriter();
        var run = CliRun.RunAsync(["box", "--port", "0", "--workspace", _workspace],
            new Dictionary<string, string> { ["RUNABLE_BOX_TOKEN"] = "env-key-123" }, output, stop.Token);

        var url = ListeningUrl(await output.WaitForAsync("listening on", TimeSpan.FromSeconds(30)));
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var anonymous = await http.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        using var withKey = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json") { Headers = { { "X-API-Key", "env-key-123" } } };
        var authorized = await http.SendAsync(withKey, TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"(workspace {_workspace})", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SigInt)]
    [InlineData(SigTerm)]
    public async Task Box_CtrlCOrTerm_StopsTheServerCleanlyWithExitCodeZero(int signal)
    {
        // An ignored signal stays ignored in children: a test host started in the background without job
        // control cannot deliver Ctrl-C, and says so instead of failing.
        Assert.SkipWhen(IgnoredByThisProcess(signal),
            $"signal {signal} is ignored by this test process (started in the background?), so the box would inherit that");
        var program = Path.Combine(AppContext.BaseDirectory, "runable");
        Assert.True(File.Exists(program), $"{program} is not next to the tests");
        var start = new ProcessStartInfo(program)
        {
            ArgumentList = { "box", "--port", "0", "--api-key", "k", "--workspace", _workspace },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("RUNABLE_BOX_TOKEN");
        start.Environment.Remove("AGENT_API_KEY");
        using var box = Process.Start(start)!;
        try
        {
            var line = await box.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken)
                .AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.NotNull(line);
            using var http = new HttpClient { BaseAddress = new Uri(ListeningUrl(line)) };
            var health = await http.GetAsync("/health", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            Assert.Equal(0, Kill(box.Id, signal));
            await box.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            Assert.Equal(0, box.ExitCode);
            await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/health", TestContext.Current.CancellationToken));
        }
        finally
        {
            if (!box.HasExited)
            {
                box.Kill(entireProcessTree: true);
            }
        }
    }

    private const int SigInt = 2;
    private const int SigTerm = 15;

    private static bool IgnoredByThisProcess(int signal)
    {
        var ignored = File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        var mask = Convert.ToUInt64(ignored["SigIgn:".Length..].Trim(), 16);
        return (mask & (1UL << (signal - 1))) != 0;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>The URL in "runable box: listening on http://127.0.0.1:PORT (workspace ...)".</summary>
    private static string ListeningUrl(string text)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text, @"listening on (http://\S+?)[ ,]");
        Assert.True(match.Success, $"no URL in: {text}");
        return match.Groups[1].Value;
    }
}
