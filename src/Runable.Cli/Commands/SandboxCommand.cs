using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Runable.Cli.Remote;
using Spectre.Console;

namespace Runable.Cli.Commands;

/// <summary><c>runable sandbox create|ls|exec|rm</c>: sandboxes on a running orchestrator.</summary>
public static class SandboxCommand
{
    /// <summary>Exit code of <c>exec</c> when the command outlived its timeout (it keeps running in the box), as timeout(1) does.</summary>
    public const int TimedOutExitCode = 124;

    /// <summary>Creates the <c>sandbox</c> command; <paramref name="environment"/> reads environment variables.</summary>
    public static Command Create(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new Command("sandbox", "Create, list, use and remove sandboxes on a running orchestrator (runable serve).")
        {
            CreateCommand(environment), ListCommand(environment), ExecCommand(environment), RemoveCommand(environment),
        };
    }

    private static Command CreateCommand(Func<string, string?> environment)
    {
        var memory = new Option<int?>("--memory-mb") { Description = "Memory of all the sandbox's commands together, in MiB [default: 1024].", HelpName = "N" };
        var pids = new Option<int?>("--pids") { Description = "Processes and threads at once [default: 512].", HelpName = "N" };
        var cpus = new Option<double?>("--cpus") { Description = "CPU time in cores [default: 1].", HelpName = "X" };
        var tmp = new Option<int?>("--tmp-mb") { Description = "Size of the private /tmp, in MiB [default: 256].", HelpName = "N" };
        var network = new Option<string?>("--network") { Description = "What the sandbox may reach [default: none; allowlist with --allow].", HelpName = "MODE" };
        network.AcceptOnlyFromAmong("none", "allowlist", "open");
        var allow = new Option<string[]>("--allow") { Description = "A host name the sandbox may reach, e.g. pypi.org or *.example.com (repeatable).", HelpName = "DOMAIN" };
        var idle = new Option<double?>("--idle-timeout") { Description = "Seconds without a request before the sandbox is destroyed; 0 keeps it [default: 1800].", HelpName = "SECONDS" };
        var json = new Option<bool>("--json") { Description = "Print the whole sandbox as JSON instead of its id." };
        var remote = new RemoteOptions();
        var command = new Command("create", "Create a sandbox and print its id (id=$(runable sandbox create)).")
        {
            memory, pids, cpus, tmp, network, allow, idle, json,
        };
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, async (connection, token) =>
        {
            var limits = new JsonObject();
            AddIfSet(limits, "memory_mb", parseResult.GetValue(memory));
            AddIfSet(limits, "pids", parseResult.GetValue(pids));
            AddIfSet(limits, "cpus", parseResult.GetValue(cpus));
            AddIfSet(limits, "tmp_mb", parseResult.GetValue(tmp));
            var body = new JsonObject();
            if (limits.Count > 0)
            {
                body["limits"] = limits;
            }

            var allowed = parseResult.GetValue(allow) ?? [];
            var mode = parseResult.GetValue(network) ?? (allowed.Length > 0 ? "allowlist" : null);
            if (mode is not null)
            {
                var policy = new JsonObject { ["mode"] = mode };
                if (allowed.Length > 0)
                {
                    policy["allow"] = new JsonArray(allowed.Select(a => (JsonNode?)a).ToArray());
                }

                body["network"] = policy;
            }

            AddIfSet(body, "idle_timeout_s", parseResult.GetValue(idle));
            var text = await connection.SendAsync(HttpMethod.Post, "v1/sandboxes", body, token);
            var output = parseResult.InvocationConfiguration.Output;
            await output.WriteLineAsync(parseResult.GetValue(json) ? text : JsonNode.Parse(text)?["id"]?.GetValue<string>());
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command ListCommand(Func<string, string?> environment)
    {
        var json = new Option<bool>("--json") { Description = "Print the list as JSON instead of a table." };
        var remote = new RemoteOptions();
        var command = new Command("ls", "List your sandboxes.") { json };
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, async (connection, token) =>
        {
            var text = await connection.SendAsync(HttpMethod.Get, "v1/sandboxes", null, token);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(text);
                return 0;
            }

            var sandboxes = JsonNode.Parse(text)?.AsArray() ?? [];
            if (sandboxes.Count == 0)
            {
                await output.WriteLineAsync("No sandboxes; create one with runable sandbox create.");
                return 0;
            }

            var table = new Table().Border(TableBorder.Rounded).AddColumns("id", "status", "backend", "created");
            foreach (var sandbox in sandboxes)
            {
                var created = DateTimeOffset.TryParse(sandbox?["created_at"]?.GetValue<string>(), CultureInfo.InvariantCulture, out var at)
                    ? at.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
                    : "";
                var status = sandbox?["status"]?.GetValue<string>() ?? "";
                table.AddRow(Markup.Escape(sandbox?["id"]?.GetValue<string>() ?? ""),
                    status == "running" ? "[green]running[/]" : $"[yellow]{Markup.Escape(status)}[/]",
                    Markup.Escape(sandbox?["backend"]?.GetValue<string>() ?? ""), created);
            }

            CliConsole.Create(output).Write(table);
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command ExecCommand(Func<string, string?> environment)
    {
        var sandbox = new Argument<string>("SANDBOX") { Description = "The sandbox's id." };
        var words = new Argument<string[]>("COMMAND")
        {
            Description = "The command, after --; its words are joined with spaces and run by bash in the sandbox.",
            Arity = ArgumentArity.OneOrMore,
        };
        var timeout = new Option<double?>("--timeout") { Description = "Seconds to wait for the command [default: the box's, 60].", HelpName = "S" };
        var remote = new RemoteOptions();
        var command = new Command("exec", "Run a command in a sandbox; its output is printed and its exit code is this command's.")
        {
            sandbox, words, timeout,
        };
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, async (connection, token) =>
        {
            using var box = connection.Box(parseResult.GetRequiredValue(sandbox));
            var result = await box.ExecAsync(string.Join(' ', parseResult.GetRequiredValue(words)), parseResult.GetValue(timeout), cancellationToken: token);
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            await output.WriteAsync(result.Stdout);
            await output.FlushAsync(token);
            await error.WriteAsync(result.Stderr);
            if ((result.TimedOut || result.Truncated) && result.Note is { } note)
            {
                await error.WriteLineAsync($"runable: {note}");
            }

            return result.ExitCode ?? TimedOutExitCode;
        }, cancellationToken));
        return command;
    }

    private static Command RemoveCommand(Func<string, string?> environment)
    {
        var sandboxes = new Argument<string[]>("SANDBOX") { Description = "The ids of the sandboxes to destroy.", Arity = ArgumentArity.OneOrMore };
        var remote = new RemoteOptions();
        var command = new Command("rm", "Destroy sandboxes: every process, their cgroups and their files.") { sandboxes };
        remote.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => OrchestratorConnection.RunAsync(parseResult, remote, environment, (connection, token) =>
            connection.ForEachAsync(parseResult.GetRequiredValue(sandboxes), async id =>
            {
                await connection.SendAsync(HttpMethod.Delete, $"v1/sandboxes/{Uri.EscapeDataString(id)}", null, token);
                return id;
            }, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error), cancellationToken));
        return command;
    }

    private static void AddIfSet(JsonObject json, string name, JsonNode? value)
    {
        if (value is not null)
        {
            json[name] = value;
        }
    }
}
