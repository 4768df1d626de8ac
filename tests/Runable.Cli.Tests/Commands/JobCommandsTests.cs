using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Runable.Cli.Tests.Commands;

/// <summary><c>runable jobs</c>, <c>logs</c> and <c>cancel</c> against a real orchestrator (which runs no jobs: they stay queued).</summary>
public sealed class JobCommandsTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Jobs_Logs_AndCancel_WorkEndToEnd()
    {
        using var http = new HttpClient { BaseAddress = new Uri(orchestrator.Url) };
        http.DefaultRequestHeaders.Add("X-API-Key", orchestrator.AdminKey);
        using var submitted = await http.PostAsJsonAsync("v1/jobs", new { task = "Make the tests pass\nand keep the API", labels = new[] { "cli" } }, Cancellation);
        var id = JsonNode.Parse(await submitted.Content.ReadAsStringAsync(Cancellation))!["id"]!.GetValue<string>();
        using var message = await http.PostAsJsonAsync($"v1/jobs/{id}/messages", new { text = "prefer small commits" }, Cancellation);
        message.EnsureSuccessStatusCode();

        var listed = await CliRun.RunAsync(["jobs", "--label", "cli"], orchestrator.Environment, cancellationToken: Cancellation);
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains(listed.Output.Split('\n'), line => line.Contains(id, StringComparison.Ordinal) && line.Contains("queued", StringComparison.Ordinal)
            && line.Contains("Make the tests pass and keep the API", StringComparison.Ordinal));

        var logs = await CliRun.RunAsync(["logs", id], orchestrator.Environment, cancellationToken: Cancellation);
        Assert.Equal(0, logs.ExitCode);
        Assert.Equal(["#1 status: queued", "#2 you: prefer small commits"], logs.Output.TrimEnd('\n').Split('\n'));

        // Following: the events so far, then the cancellation, then the end (exit 1: the job did not succeed).
        var following = CliRun.RunAsync(["logs", id, "-f"], orchestrator.Environment, cancellationToken: Cancellation);
        await Task.Delay(500, Cancellation);
        Assert.False(following.IsCompleted, "logs -f ended while the job was still queued");
        var cancelled = await CliRun.RunAsync(["cancel", id, "--api-key", orchestrator.AdminKey], orchestrator.Environment, cancellationToken: Cancellation);
        Assert.Equal((0, $"{id} cancelled\n"), (cancelled.ExitCode, cancelled.Output));
        var followed = await following.WaitAsync(TimeSpan.FromSeconds(15), Cancellation);
        Assert.Equal(1, followed.ExitCode);
        Assert.Equal(["#1 status: queued", "#2 you: prefer small commits", "#3 status: cancelled (cancelled)"], followed.Output.TrimEnd('\n').Split('\n'));

        var unknown = await CliRun.RunAsync(["cancel", "job_0000000000000000"], orchestrator.Environment, cancellationToken: Cancellation);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("job_not_found", unknown.Error, StringComparison.Ordinal);
    }
}
