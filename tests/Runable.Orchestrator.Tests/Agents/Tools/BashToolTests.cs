using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Runable.Orchestrator.Tests.Agents.Tools;

/// <summary>The <c>bash</c> tool in a real sandbox: a persistent session, timeouts as observations, restarts, capped output.</summary>
public sealed partial class BashToolTests(ToolSandboxFixture sandbox) : IClassFixture<ToolSandboxFixture>
{
    [Fact]
    public async Task Bash_KeepsDirectoryAndVariables_AndReportsStderrAndExitCode()
    {
        await sandbox.CallAsync("bash", """{"command": "mkdir -p /tmp/work && cd /tmp/work && export GREETING=hello && count=3"}""");
        var state = await sandbox.CallAsync("bash", """{"command": "pwd; echo $GREETING $count"}""");
        Assert.Equal("/tmp/work\nhello 3\n[exit code: 0]", state.Text);

        var failing = await sandbox.CallAsync("bash", """{"command": "echo listed; ls /nonexistent"}""");
        Assert.StartsWith("listed\n[stderr]\nls: cannot access '/nonexistent': No such file or directory\n", failing.Text, StringComparison.Ordinal);
        Assert.EndsWith("[exit code: 2]", failing.Text, StringComparison.Ordinal);
        Assert.False(failing.Result.IsError);

        var missing = await sandbox.CallAsync("bash", "{}");
        Assert.StartsWith("Error: command is required", missing.Text, StringComparison.Ordinal);
        Assert.True(missing.Result.IsError);
    }

    [Fact]
    public async Task Bash_HangingCommand_TimesOutAsAnObservation_AndTheSessionGoesOn()
    {
        await sandbox.CallAsync("bash", """{"command": "cd /tmp && export KEPT=yes"}""");
        var watch = Stopwatch.StartNew();
        var hung = await sandbox.CallAsync("bash", """{"command": "echo started; sleep 600"}""");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"the call took {watch.Elapsed}");
        Assert.StartsWith($"Error: the command did not finish within {ToolSandboxFixture.BashTimeout.TotalSeconds} s and was killed", hung.Text, StringComparison.Ordinal);
        Assert.Contains("Output before the timeout:\nstarted", hung.Text, StringComparison.Ordinal);
        Assert.True(hung.Result.IsError);
        Assert.Equal("", await sandbox.ShellAsync("pgrep -x sleep || true"));

        var next = await sandbox.CallAsync("bash", """{"command": "pwd; echo $KEPT"}""");
        Assert.Equal("/tmp\nyes\n[exit code: 0]", next.Text);
    }

    [Fact]
    public async Task Bash_Restart_GivesAFreshShellInTheWorkspace()
    {
        await sandbox.CallAsync("bash", """{"command": "cd /tmp && export GONE=1"}""");
        var restarted = await sandbox.CallAsync("bash", """{"restart": true}""");
        Assert.Equal("The bash session was restarted: a fresh shell in /workspace.", restarted.Text);

        var fresh = await sandbox.CallAsync("bash", """{"command": "pwd; echo \"[$GONE]\""}""");
        Assert.Equal("/workspace\n[]\n[exit code: 0]", fresh.Text);
    }

    [Fact]
    public async Task Bash_HugeOutput_KeepsHeadAndTail_AndSavesAllOfItOutsideTheWorkspace()
    {
        var call = await sandbox.CallAsync("bash", """{"command": "seq 1 200000"}""");

        Assert.True(call.Result.Truncated);
        Assert.True(call.Text.Length < 17 * 1024, $"{call.Text.Length} characters reached the model");
        Assert.StartsWith("1\n2\n3\n", call.Text, StringComparison.Ordinal);
        Assert.EndsWith("199999\n200000\n[exit code: 0]", call.Text, StringComparison.Ordinal);
        var marker = OmissionMarker().Match(call.Text);
        Assert.True(marker.Success, call.Text[..200]);
        var path = marker.Groups["path"].Value;
        Assert.Equal(call.Result.FullOutputPath, path);
        Assert.StartsWith("/tmp/runable/outputs/bash-", path, StringComparison.Ordinal);
        var firstOmitted = int.Parse(marker.Groups["first"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"\n{firstOmitted - 1}\n[...", call.Text, StringComparison.Ordinal);

        Assert.Equal("200000 200000\n", await sandbox.ShellAsync($"echo $(wc -l < {path}) $(tail -n 1 {path})"));
        var hint = await sandbox.CallAsync("bash", $$"""{"command": "sed -n '{{firstOmitted}},{{firstOmitted + 1}}p' {{path}}"}""");
        Assert.Equal($"{firstOmitted}\n{firstOmitted + 1}\n[exit code: 0]", hint.Text);
        Assert.Equal("", await sandbox.ShellAsync("ls -A /workspace"));
    }

    [GeneratedRegex(@"\[\.\.\. \d+ characters \(lines (?<first>\d+)-\d+\) omitted; the full output \(200000 lines\) is in (?<path>\S+): read parts of it with sed -n")]
    private static partial Regex OmissionMarker();
}
