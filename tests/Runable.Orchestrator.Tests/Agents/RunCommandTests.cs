using System.CommandLine;
using System.Diagnostics;
using Runable.Cli.Commands;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Models;
using Runable.Orchestrator.Tests.Models;

namespace Runable.Orchestrator.Tests.Agents;

/// <summary>
/// <c>runable run</c> and <c>runable download</c> end to end: a local git repository with a bug is packed and uploaded
/// by the command, a real orchestrator runs the agent against a scripted model behind a real OpenAI-compatible endpoint,
/// and the command shows the progress, writes a diff that fixes the bug, and exits 0 only when the job succeeded.
/// </summary>
public sealed class RunCommandTests : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("runable-run-").FullName;
    private AgentHost _host = null!;
    private ScriptedModelServer _model = null!;
    private Dictionary<string, string> _environment = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _host = await AgentHost.StartAsync(Path.Combine(_data, "orchestrator"), cancellationToken: Ct);
        _model = _host.Model;
        _environment = new Dictionary<string, string>
        {
            ["RUNABLE_SERVER"] = _host.Url,
            ["RUNABLE_API_KEY"] = _host.AdminKey,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Run_UploadsTheRepository_ShowsProgress_WritesAFixingDiff_AndExitsZero()
    {
        var repository = Path.Combine(_data, "repo");
        Directory.CreateDirectory(Path.Combine(repository, "build"));
        await File.WriteAllTextAsync(Path.Combine(repository, "calc.py"), "def add(a, b):\n    return a - b\n", Ct);
        await File.WriteAllTextAsync(Path.Combine(repository, "test_calc.py"), "from calc import add\nassert add(2, 3) == 5, 'add is broken'\nprint('tests pass')\n", Ct);
        await File.WriteAllTextAsync(Path.Combine(repository, ".gitignore"), "build/\n", Ct);
        Git(repository, "init", "-q");
        Git(repository, "add", ".");
        Git(repository, "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "start");
        await File.WriteAllTextAsync(Path.Combine(repository, "notes.txt"), "not committed yet\n", Ct);            // travels: untracked
        await File.WriteAllBytesAsync(Path.Combine(repository, "build", "output.bin"), new byte[1 << 20], Ct);  // stays: ignored

        _model.Enqueue(
            ScriptedTurn.Calls(ScriptedToolCall.Of("bash",
                new { command = "test -e build/output.bin && echo BUILD-PRESENT || echo BUILD-ABSENT; cat notes.txt; git log --oneline | wc -l; python3 test_calc.py" }, "call_look")).WithUsage(1000, 50),
            ScriptedTurn.Calls(ScriptedToolCall.Of("str_replace_based_edit_tool",
                new { command = "str_replace", path = "calc.py", old_str = "return a - b", new_str = "return a + b" }, "call_fix")).WithUsage(1500, 40),
            ScriptedTurn.Calls(ScriptedToolCall.Of("finish", new { summary = "add() adds now; test_calc.py passes" }, "call_done")).WithUsage(1700, 20));

        var patch = Path.Combine(_data, "fix.patch");
        var run = await RunAsync("run", "The test in test_calc.py fails. Fix calc.py.", "--workspace", repository, "--diff", patch);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var lines = run.Output.Split('\n');
        HasLine(run, l => l.StartsWith("Uploaded " + repository + ": 4 files", StringComparison.Ordinal) && l.Contains("without what git ignores", StringComparison.Ordinal));
        HasLine(run, l => l.Contains("→ bash: test -e build/output.bin && echo", StringComparison.Ordinal));
        HasLine(run, l => l.Contains("← bash: BUILD-ABSENT", StringComparison.Ordinal));
        HasLine(run, l => l.Contains("→ str_replace_based_edit_tool: str_replace calc.py", StringComparison.Ordinal));
        HasLine(run, l => l.StartsWith("step 2, 2,500 tokens in, 90 out", StringComparison.Ordinal));
        HasLine(run, l => l.StartsWith("Job job_", StringComparison.Ordinal) && l.Contains(" succeeded (finished) after step 3, 4,200 tokens in, 110 out", StringComparison.Ordinal));
        Assert.Contains("add() adds now; test_calc.py passes", lines);
        HasLine(run, l => l.StartsWith($"Diff: {patch} (1 file changed, +1 -1). Apply it with: git -C {repository} apply", StringComparison.Ordinal));

        // The untracked file and the history travelled, the ignored file did not.
        var look = _model.Requests[1].Messages.Single(m => (string?)m?["role"] == "tool")!["content"]!.ToString();
        Assert.Contains("BUILD-ABSENT", look, StringComparison.Ordinal);
        Assert.Contains("not committed yet", look, StringComparison.Ordinal);

        // The diff applies to the local repository and fixes the bug.
        Git(repository, "apply", patch);
        Assert.Contains("tests pass", Run(repository, "/usr/bin/python3", "test_calc.py"), StringComparison.Ordinal);

        // runable download saves all three artifacts.
        var id = lines.Single(l => l.StartsWith("Job job_", StringComparison.Ordinal) && l.Contains("succeeded", StringComparison.Ordinal)).Split(' ')[1];
        var folder = Path.Combine(_data, "downloaded");
        var download = await RunAsync("download", id, "-o", folder);
        Assert.True(download.ExitCode == 0, download.Output + download.Error);
        Assert.Equal(["diff.patch", "trajectory.jsonl", "workspace.tar.gz"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(await File.ReadAllTextAsync(patch, Ct), await File.ReadAllTextAsync(Path.Combine(folder, "diff.patch"), Ct));
        var missing = await RunAsync("download", id, "nothing.bin", "-o", folder);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("has no artifact 'nothing.bin'", missing.Error, StringComparison.Ordinal);
        var outside = await RunAsync("download", id, "../diff.patch", "-o", folder);
        Assert.Equal(1, outside.ExitCode);
        Assert.Contains("is not an artifact's file name", outside.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_data, "diff.patch")));
    }

    [Fact]
    public async Task Run_ExitsNonZero_WhenTheJobDoesNotSucceed()
    {
        _model.Enqueue(ScriptedTurn.Calls(ScriptedToolCall.Of("bash", new { command = "echo working" }, "call_1")).WithUsage(100, 10));

        var run = await RunAsync("run", "Do something long", "--max-steps", "1", "--diff", Path.Combine(_data, "none.patch"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(run.Output.Split('\n'), l => l.StartsWith("Job job_", StringComparison.Ordinal) && l.Contains(" failed (max_steps)", StringComparison.Ordinal));
        Assert.Contains("The agent changed no file.", run.Output, StringComparison.Ordinal);

        var both = await RunAsync("run", "x", "--workspace", _data, "--git", "https://example.com/r.git");
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("not both", both.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ReportsAProviderThatFailsForGood_AndTheJobKeepsWhatItDid()
    {
        _model.Enqueue(
            ScriptedTurn.Calls(ScriptedToolCall.Of("bash", new { command = "echo started > progress.txt" }, "call_1")).WithUsage(100, 10),
            ScriptedTurn.Reply("never sent").After(ScriptedFailure.WithStatus(401), times: 5));

        var run = await RunAsync("run", "Write progress.txt and go on", "--diff", Path.Combine(_data, "partial.patch"));

        Assert.Equal(1, run.ExitCode);
        HasLine(run, l => l.StartsWith("Job job_", StringComparison.Ordinal) && l.Contains(" failed", StringComparison.Ordinal));
        HasLine(run, l => l.StartsWith("error: ", StringComparison.Ordinal) && l.Contains("401", StringComparison.Ordinal));
        Assert.Equal(2, _model.Requests.Count); // the step, then the refused one, asked once: a 401 is not retried
        HasLine(run, l => l.StartsWith("Diff: ", StringComparison.Ordinal) && l.Contains("(1 file changed, +1 -0)", StringComparison.Ordinal));
    }

    private static void HasLine((int ExitCode, string Output, string Error) run, Func<string, bool> match) =>
        Assert.True(run.Output.Split('\n').Any(match), "No such line in:\n" + run.Output + run.Error);

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.Build(name => _environment.GetValueOrDefault(name)).Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, Ct);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static void Git(string directory, params string[] args) => Run(directory, "git", args);

    private static string Run(string directory, string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)}: {output}");
        return output;
    }
}
