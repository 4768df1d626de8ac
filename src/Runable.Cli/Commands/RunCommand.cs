using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runable.Cli.Remote;
using Spectre.Console;

namespace Runable.Cli.Commands;

/// <summary>
/// <c>runable run "TASK" [--workspace DIR | --git URL] [--model M]</c>: uploads the workspace, submits the job, shows
/// its progress live until it ends, writes its diff, and exits 0 only when it succeeded. The first Ctrl-C cancels the
/// job (its artifacts are still saved), a second one leaves at once.
/// </summary>
public static class RunCommand
{
    /// <summary>The exit code after the user left with Ctrl-C.</summary>
    public const int Interrupted = 130;

    /// <summary>The command; <paramref name="environment"/> reads environment variables.</summary>
    public static Command Create(Func<string, string?> environment)
    {
        var task = new Argument<string>("TASK") { Description = "What the agent should do, in plain words." };
        var workspace = new Option<string?>("--workspace", "-w")
        {
            Description = "A local folder to work on. It is uploaded (the top of a git repository with its history and without what git ignores) and the diff is taken against it.",
            HelpName = "DIR",
        };
        var git = new Option<string?>("--git") { Description = "A git repository for the orchestrator to clone (https).", HelpName = "URL" };
        var gitRef = new Option<string?>("--ref") { Description = "The branch, tag or commit of --git to start from.", HelpName = "REF" };
        var model = new Option<string?>("--model", "-m") { Description = "The model, e.g. openai:gpt-4.1 [default: the orchestrator's RUNABLE_MODEL].", HelpName = "M" };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop after this many model calls.", HelpName = "N" };
        var timeout = new Option<int?>("--timeout") { Description = "Stop after this many seconds.", HelpName = "S" };
        var maxCost = new Option<double?>("--max-cost") { Description = "Stop once the job has cost this many US dollars.", HelpName = "USD" };
        var diff = new Option<string?>("--diff") { Description = "Where to write the diff [default: runable-<job>.patch]; '-' prints it.", HelpName = "FILE" };
        var detach = new Option<bool>("--detach", "-d") { Description = "Submit the job, print its id and return (follow it with runable logs -f)." };
        var remote = new RemoteOptions();
        var command = new Command("run", "Give an agent a task: upload the workspace, follow the job live, write its diff. Exits 0 only when the job succeeds.")
        {
            task, workspace, git, gitRef, model, maxSteps, timeout, maxCost, diff, detach,
        };
        remote.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(workspace) is not null && result.GetValue(git) is not null)
            {
                result.AddError("Give one workspace: --workspace DIR or --git URL, not both.");
            }

            if (result.GetValue(gitRef) is not null && result.GetValue(git) is null)
            {
                result.AddError("--ref needs --git URL.");
            }
        });
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, async (connection, token) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var run = new Run(connection, CliConsole.Create(output), output, CliConsole.IsTerminal(output));

            JsonObject? source = null;
            if (parseResult.GetValue(workspace) is { } directory)
            {
                source = new JsonObject { ["archive_id"] = await run.UploadAsync(directory, token) };
            }
            else if (parseResult.GetValue(git) is { } url)
            {
                source = new JsonObject { ["git_url"] = url, ["git_ref"] = parseResult.GetValue(gitRef) };
            }

            var limits = new JsonObject
            {
                ["max_steps"] = parseResult.GetValue(maxSteps),
                ["timeout_s"] = parseResult.GetValue(timeout),
                ["max_cost_usd"] = parseResult.GetValue(maxCost),
            };
            var body = new JsonObject
            {
                ["task"] = parseResult.GetRequiredValue(task),
                ["workspace"] = source,
                ["model"] = parseResult.GetValue(model),
                ["limits"] = limits,
                ["labels"] = new JsonArray("cli"),
            };
            var job = JsonNode.Parse(await connection.SendAsync(HttpMethod.Post, "v1/jobs", body, Guid.NewGuid().ToString("N"), token))!;
            var id = job["id"]!.GetValue<string>();
            if (parseResult.GetValue(detach))
            {
                await output.WriteLineAsync(id);
                return 0;
            }

            return await run.FollowAsync(id, job["model"]?.GetValue<string>(), parseResult.GetValue(diff), parseResult.GetValue(workspace), token);
        }, cancellationToken));
        return command;
    }

    /// <summary>One <c>runable run</c>: what it prints and how far the job has got.</summary>
    private sealed class Run(OrchestratorConnection connection, IAnsiConsole console, TextWriter output, bool live)
    {
        private readonly Stopwatch _elapsed = Stopwatch.StartNew();
        private int _step;
        private long _inputTokens;
        private long _outputTokens;
        private decimal _cost;
        private string _status = "queued";
        private string _doing = "";

        public async Task<string> UploadAsync(string directory, CancellationToken cancellationToken)
        {
            using var archive = await WorkspaceArchive.CreateAsync(directory, cancellationToken);
            var what = $"{directory}: {archive.Files:N0} files, {Size(archive.ContentBytes)} ({Size(archive.Bytes)} packed" +
                (archive.GitAware ? ", without what git ignores)" : ")");
            string answer;
            if (live)
            {
                answer = await console.Progress().AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn())
                    .StartAsync(async context =>
                    {
                        var upload = context.AddTask("uploading", maxValue: archive.Bytes);
                        return await connection.PostFileAsync(archive.Path, "v1/uploads", "application/gzip", new ProgressAction(sent => upload.Value = sent), cancellationToken);
                    });
            }
            else
            {
                answer = await connection.PostFileAsync(archive.Path, "v1/uploads", "application/gzip", null, cancellationToken);
            }

            var id = JsonNode.Parse(answer)!["archive_id"]!.GetValue<string>();
            await Line($"Uploaded {what} as {id}.");
            return id;
        }

        public async Task<int> FollowAsync(string id, string? model, string? diffPath, string? workspace, CancellationToken cancellationToken)
        {
            await Line($"Job {id}{(model is null ? "" : $" ({model})")} submitted. Ctrl-C cancels it.");

            // The first Ctrl-C asks the orchestrator to cancel the job and keeps following it to its end (so its
            // artifacts are saved); a second one leaves at once.
            using var leave = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var interrupts = 0;
            Task? cancelling = null;
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal =>
            {
                signal.Cancel = true;
                if (Interlocked.Increment(ref interrupts) == 1)
                {
                    cancelling = CancelAsync(id);
                }
                else
                {
                    leave.Cancel();
                }
            });

            try
            {
                if (live)
                {
                    await console.Status().Spinner(Spinner.Known.Dots).StartAsync(Footer(), async context =>
                    {
                        using var ticker = new Timer(_ => context.Status(Footer()), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
                        await foreach (var item in connection.FollowEventsAsync(id, 0, leave.Token))
                        {
                            Apply(item.Data, out var line);
                            if (line is not null)
                            {
                                console.MarkupLine(line);
                            }

                            context.Status(Footer());
                        }
                    });
                }
                else
                {
                    await foreach (var item in connection.FollowEventsAsync(id, 0, leave.Token))
                    {
                        var type = Apply(item.Data, out var line);
                        if (type == "usage")
                        {
                            await output.WriteLineAsync(Progress());
                        }
                        else if (line is not null)
                        {
                            await output.WriteLineAsync(JobEventText.Line(item.Data));
                        }

                        await output.FlushAsync(cancellationToken);
                    }
                }
            }
            catch (OperationCanceledException) when (leave.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                await Line($"Left job {id}{(cancelling is null ? "" : ", which is being cancelled")}; see it with: runable logs {id}");
                return Interrupted;
            }

            if (cancelling is not null)
            {
                await cancelling;
            }

            var job = JsonNode.Parse(await connection.SendAsync(HttpMethod.Get, $"v1/jobs/{Uri.EscapeDataString(id)}", null, cancellationToken))!;
            var status = job["status"]?.GetValue<string>() ?? "";
            var summary = job["result"]?["summary"]?.GetValue<string>();
            var reason = job["result"]?["reason"]?.GetValue<string>();
            var error = job["error"]?.GetValue<string>();
            await Line($"Job {id} {status}{(reason is null ? "" : $" ({reason})")} after {Progress()}.");
            if (!string.IsNullOrWhiteSpace(summary))
            {
                await Line(summary);
            }

            if (!string.IsNullOrWhiteSpace(error) && error != summary)
            {
                await Line("error: " + error);
            }

            await WriteDiffAsync(id, diffPath, workspace, cancellationToken);
            return status == "succeeded" ? 0 : interrupts > 0 ? Interrupted : 1;
        }

        private async Task CancelAsync(string id)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await connection.SendAsync(HttpMethod.Post, $"v1/jobs/{Uri.EscapeDataString(id)}/cancel", null, timeout.Token);
                await Line($"Cancelling job {id} (Ctrl-C again leaves without waiting).");
            }
            catch (Exception e) when (e is RemoteProblemException or HttpRequestException or OperationCanceledException)
            {
                await Line($"Could not cancel job {id}: {e.Message}");
            }
        }

        /// <summary>Writes the job's diff where asked, saying how big it is and how to apply it.</summary>
        private async Task WriteDiffAsync(string id, string? path, string? workspace, CancellationToken cancellationToken)
        {
            var artifacts = JsonNode.Parse(await connection.SendAsync(HttpMethod.Get, $"v1/jobs/{Uri.EscapeDataString(id)}/artifacts", null, cancellationToken))?.AsArray() ?? [];
            if (!artifacts.Any(a => a?["name"]?.GetValue<string>() == "diff.patch"))
            {
                await Line("The job left no diff (it ended before its workspace was ready).");
                return;
            }

            var diff = await connection.SendAsync(HttpMethod.Get, $"v1/jobs/{Uri.EscapeDataString(id)}/artifacts/diff.patch", null, cancellationToken);
            if (diff.Length == 0)
            {
                await Line("The agent changed no file.");
                return;
            }

            if (path == "-")
            {
                await output.WriteAsync(diff);
                await output.FlushAsync(cancellationToken);
                return;
            }

            path ??= $"runable-{id}.patch";
            await File.WriteAllTextAsync(path, diff, cancellationToken);
            var lines = diff.Split('\n');
            var files = lines.Count(l => l.StartsWith("diff --git ", StringComparison.Ordinal));
            var added = lines.Count(l => l.StartsWith('+') && !l.StartsWith("+++", StringComparison.Ordinal));
            var removed = lines.Count(l => l.StartsWith('-') && !l.StartsWith("---", StringComparison.Ordinal));
            var apply = workspace is null ? $"git apply {path}" : $"git -C {workspace} apply {Path.GetFullPath(path)}";
            await Line($"Diff: {path} ({files} file{(files == 1 ? "" : "s")} changed, +{added} -{removed}). Apply it with: {apply}");
        }

        /// <summary>Takes in an event; <paramref name="markup"/> is its line for the live display (null: none). Returns its type.</summary>
        private string Apply(string json, out string? markup)
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var type = root.GetProperty("type").GetString() ?? "";
            var data = root.TryGetProperty("data", out var d) ? d : default;
            markup = null;
            switch (type)
            {
                case "status":
                    _status = Text(data, "status") ?? _status;
                    markup = $"[grey]{Markup.Escape(JobEventText.Line(json))}[/]";
                    break;
                case "assistant":
                    _step = data.TryGetProperty("step", out var step) ? step.GetInt32() : _step + 1;
                    markup = Text(data, "text") is { Length: > 0 } ? $"[bold]step {_step}[/] {Markup.Escape(JobEventText.Line(json))}" : null;
                    break;
                case "tool_call":
                    _doing = JobEventText.Line(json);
                    markup = $"[blue]{Markup.Escape(_doing)}[/]";
                    break;
                case "tool_result":
                    _doing = "";
                    var failed = data.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True;
                    markup = $"[{(failed ? "red" : "green")}]{Markup.Escape(JobEventText.Line(json))}[/]";
                    break;
                case "usage":
                    _inputTokens = Number(data, "total_input_tokens") ?? _inputTokens;
                    _outputTokens = Number(data, "total_output_tokens") ?? _outputTokens;
                    _cost = data.TryGetProperty("total_cost_usd", out var cost) && cost.ValueKind == JsonValueKind.Number ? cost.GetDecimal() : _cost;
                    break;
                default:
                    markup = Markup.Escape(JobEventText.Line(json));
                    break;
            }

            return type;
        }

        /// <summary>Step, tokens, cost and elapsed time, e.g. <c>step 3, 4,200 tokens in, 90 out, $0.0120, 0:42</c>.</summary>
        private string Progress() =>
            string.Create(CultureInfo.InvariantCulture,
                $"step {_step}, {_inputTokens:N0} tokens in, {_outputTokens:N0} out{(_cost > 0 ? $", ${_cost:0.0000}" : "")}, {_elapsed.Elapsed:m\\:ss}");

        private string Footer() => Markup.Escape($"{_status}: {Progress()}{(_doing.Length > 0 ? " — " + _doing : "")}");

        private async Task Line(string text)
        {
            if (live)
            {
                console.MarkupLine(Markup.Escape(text));
            }
            else
            {
                await output.WriteLineAsync(text);
            }
        }

        private static string? Text(JsonElement data, string name) =>
            data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        private static long? Number(JsonElement data, string name) =>
            data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;
    }

    /// <summary>A size for people, e.g. <c>12.3 MB</c>.</summary>
    internal static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024:0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024 / 1024:0.##} GB"),
    };

    /// <summary>Progress reported straight to an action, on the thread that reports it.</summary>
    private sealed class ProgressAction(Action<long> action) : IProgress<long>
    {
        public void Report(long value) => action(value);
    }
}
