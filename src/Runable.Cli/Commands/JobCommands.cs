using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Runable.Cli.Remote;
using Spectre.Console;

namespace Runable.Cli.Commands;

/// <summary><c>runable jobs</c>, <c>runable logs ID [-f]</c> and <c>runable cancel ID</c>: agent jobs on a running orchestrator.</summary>
public static class JobCommands
{
    /// <summary>The commands; <paramref name="environment"/> reads environment variables.</summary>
    public static IEnumerable<Command> Create(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return [RunCommand.Create(environment), ListCommand(environment), LogsCommand(environment), CancelCommand(environment), DownloadCommand(environment)];
    }

    private static Command ListCommand(Func<string, string?> environment)
    {
        var status = new Option<string?>("--status") { Description = "Only jobs in this status (queued, running, succeeded, failed, cancelled, timed_out...).", HelpName = "S" };
        var label = new Option<string?>("--label") { Description = "Only jobs with this label.", HelpName = "L" };
        var limit = new Option<int>("--limit") { Description = "How many, newest first [default: 20].", DefaultValueFactory = _ => 20, HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "Print the page as JSON instead of a table." };
        var remote = new RemoteOptions();
        var command = new Command("jobs", "List your jobs, newest first.") { status, label, limit, json };
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, async (connection, token) =>
        {
            var query = $"v1/jobs?limit={parseResult.GetValue(limit)}";
            if (parseResult.GetValue(status) is { } s)
            {
                query += "&status=" + Uri.EscapeDataString(s);
            }

            if (parseResult.GetValue(label) is { } l)
            {
                query += "&label=" + Uri.EscapeDataString(l);
            }

            var text = await connection.SendAsync(HttpMethod.Get, query, null, token);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(text);
                return 0;
            }

            var jobs = JsonNode.Parse(text)?["items"]?.AsArray() ?? [];
            if (jobs.Count == 0)
            {
                await output.WriteLineAsync("No jobs; start one with runable run \"TASK\".");
                return 0;
            }

            var table = new Table().Border(TableBorder.Rounded).AddColumns("id", "status", "task", "steps", "tokens", "cost", "created");
            foreach (var job in jobs)
            {
                var usage = job?["usage"];
                var tokens = (usage?["input_tokens"]?.GetValue<long>() ?? 0) + (usage?["output_tokens"]?.GetValue<long>() ?? 0);
                var task = job?["task"]?.GetValue<string>() ?? "";
                table.AddRow(
                    Markup.Escape(job?["id"]?.GetValue<string>() ?? ""),
                    StatusMarkup(job?["status"]?.GetValue<string>() ?? ""),
                    Markup.Escape(task.Length > 50 ? task[..50] + "…" : task.ReplaceLineEndings(" ")),
                    (usage?["steps"]?.GetValue<int>() ?? 0).ToString(CultureInfo.InvariantCulture),
                    tokens.ToString("N0", CultureInfo.InvariantCulture),
                    "$" + (usage?["cost_usd"]?.GetValue<decimal>() ?? 0).ToString("0.00##", CultureInfo.InvariantCulture),
                    Local(job?["created_at"]?.GetValue<string>()));
            }

            CliConsole.Create(output).Write(table);
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command LogsCommand(Func<string, string?> environment)
    {
        var job = new Argument<string>("JOB") { Description = "The job's id." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing events as they come, until the job ends." };
        var json = new Option<bool>("--json") { Description = "Print each event as a JSON line instead of text." };
        var remote = new RemoteOptions();
        var command = new Command("logs", "Print a job's events: its status changes, the agent's messages, tool calls and results.") { job, follow, json };
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, async (connection, token) =>
        {
            var id = parseResult.GetRequiredValue(job);
            var output = parseResult.InvocationConfiguration.Output;
            var asJson = parseResult.GetValue(json);
            if (parseResult.GetValue(follow))
            {
                await foreach (var item in connection.FollowEventsAsync(id, 0, token))
                {
                    await output.WriteLineAsync(asJson ? item.Data : JobEventText.Line(item.Data));
                    await output.FlushAsync(token);
                }

                return ExitCode(await connection.SendAsync(HttpMethod.Get, $"v1/jobs/{Uri.EscapeDataString(id)}", null, token));
            }

            long after = 0;
            while (true)
            {
                var events = JsonNode.Parse(await connection.SendAsync(HttpMethod.Get, $"v1/jobs/{Uri.EscapeDataString(id)}/events?after={after}", null, token))?.AsArray() ?? [];
                foreach (var e in events)
                {
                    var text = e!.ToJsonString();
                    await output.WriteLineAsync(asJson ? text : JobEventText.Line(text));
                    after = e["seq"]!.GetValue<long>();
                }

                if (events.Count < 1000)
                {
                    return 0;
                }
            }
        }, cancellationToken));
        return command;
    }

    private static Command CancelCommand(Func<string, string?> environment)
    {
        var jobs = new Argument<string[]>("JOB") { Description = "The ids of the jobs to stop.", Arity = ArgumentArity.OneOrMore };
        var remote = new RemoteOptions();
        var command = new Command("cancel", "Stop jobs: a queued one at once, a running one at its next move.") { jobs };
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, (connection, token) =>
            connection.ForEachAsync(parseResult.GetRequiredValue(jobs), async id =>
            {
                var job = JsonNode.Parse(await connection.SendAsync(HttpMethod.Post, $"v1/jobs/{Uri.EscapeDataString(id)}/cancel", null, token));
                var status = job?["status"]?.GetValue<string>();
                return status == "cancelled" ? $"{id} cancelled" : $"{id} stopping ({status})";
            }, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error), cancellationToken));
        return command;
    }

    private static Command DownloadCommand(Func<string, string?> environment)
    {
        var job = new Argument<string>("JOB") { Description = "The job's id." };
        var names = new Argument<string[]>("ARTIFACT")
        {
            Description = "Which artifacts: workspace.tar.gz, diff.patch, trajectory.jsonl [default: all].",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var directory = new Option<string?>("--output", "-o") { Description = "The folder to save them in [default: ./JOB].", HelpName = "DIR" };
        var remote = new RemoteOptions();
        var command = new Command("download", "Save a job's artifacts: its workspace, its diff and its trajectory.") { job, names, directory };
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, async (connection, token) =>
        {
            var id = parseResult.GetRequiredValue(job);
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var escaped = Uri.EscapeDataString(id);
            var saved = (JsonNode.Parse(await connection.SendAsync(HttpMethod.Get, $"v1/jobs/{escaped}/artifacts", null, token))?.AsArray() ?? [])
                .Select(a => (Name: a!["name"]!.GetValue<string>(), Size: a["size_bytes"]?.GetValue<long>() ?? 0)).ToList();
            var wanted = parseResult.GetValue(names) is { Length: > 0 } asked ? asked : saved.Select(a => a.Name).ToArray();
            if (saved.Count == 0)
            {
                var status = JsonNode.Parse(await connection.SendAsync(HttpMethod.Get, $"v1/jobs/{escaped}", null, token))?["status"]?.GetValue<string>();
                await error.WriteLineAsync($"error: job {id} has no artifacts yet (it is {status}); they are saved when it ends.");
                return 1;
            }

            var folder = parseResult.GetValue(directory) ?? id;
            Directory.CreateDirectory(folder);
            var exitCode = 0;
            foreach (var name in wanted)
            {
                // A name is a file in the folder, nothing else (neither the server's listing nor the command line leads out of it).
                if (Path.GetFileName(name) != name || name is "." or "..")
                {
                    await error.WriteLineAsync($"error: '{name}' is not an artifact's file name.");
                    exitCode = 1;
                    continue;
                }

                if (!saved.Any(a => a.Name == name))
                {
                    await error.WriteLineAsync($"error: job {id} has no artifact '{name}'; it has {string.Join(", ", saved.Select(a => a.Name))}.");
                    exitCode = 1;
                    continue;
                }

                var path = Path.Combine(folder, name);
                var bytes = await connection.DownloadAsync($"v1/jobs/{escaped}/artifacts/{Uri.EscapeDataString(name)}", path, null, token);
                await output.WriteLineAsync($"{path} ({RunCommand.Size(bytes)})");
            }

            return exitCode;
        }, cancellationToken));
        return command;
    }

    /// <summary>0 when the job succeeded, 1 otherwise.</summary>
    public static int ExitCode(string jobJson) => JsonNode.Parse(jobJson)?["status"]?.GetValue<string>() == "succeeded" ? 0 : 1;

    private static string StatusMarkup(string status) => status switch
    {
        "succeeded" => "[green]succeeded[/]",
        "running" or "starting" => $"[blue]{status}[/]",
        "queued" => "queued",
        _ => $"[red]{Markup.Escape(status)}[/]",
    };

    private static string Local(string? time) =>
        DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, out var at) ? at.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "";
}
