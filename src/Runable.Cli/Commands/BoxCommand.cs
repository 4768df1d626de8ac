using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Runable.Box.Server.Hosting;

namespace Runable.Cli.Commands;

/// <summary><c>runable box</c>: serves the box API for a workspace.</summary>
public static class BoxCommand
{
    /// <summary>Exit code when the command line or the environment is wrong.</summary>
    public const int UsageError = 2;

    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "TCP port on --host (0 picks a free one).", DefaultValueFactory = _ => 5001 };
        var host = new Option<string>("--host") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var socket = new Option<string?>("--unix-socket") { Description = "Listen on this unix socket instead of TCP." };
        var workspace = new Option<string?>("--workspace") { Description = "The directory the tools work in (default: the current directory)." };
        var apiKey = new Option<string?>("--api-key") { Description = "The key callers must send (default: $RUNABLE_BOX_TOKEN, then $AGENT_API_KEY)." };
        var insecure = new Option<bool>("--insecure-no-auth") { Description = "Serve without a key. For local experiments only." };
        var command = new Command("box", "Serve the box API (shell, processes, terminal, files, MCP) for a workspace.")
        {
            port, host, socket, workspace, apiKey, insecure,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var key = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("RUNABLE_BOX_TOKEN") ?? Environment.GetEnvironmentVariable("AGENT_API_KEY");
            if (string.IsNullOrEmpty(key) && !parse.GetValue(insecure))
            {
                await Console.Error.WriteLineAsync(
                    "runable box: no API key. Pass --api-key KEY, or set RUNABLE_BOX_TOKEN or AGENT_API_KEY " +
                    "(or --insecure-no-auth, for local experiments only).");
                return UsageError;
            }

            var directory = Path.GetFullPath(parse.GetValue(workspace) ?? Environment.CurrentDirectory);
            if (!Directory.Exists(directory))
            {
                await Console.Error.WriteLineAsync($"runable box: the workspace '{directory}' does not exist; create it or pass another --workspace.");
                return UsageError;
            }

            var settings = new BoxServerSettings
            {
                Port = parse.GetValue(port),
                Host = parse.GetValue(host)!,
                UnixSocket = parse.GetValue(socket),
                Workspace = directory,
                ApiKey = key,
                InsecureNoAuth = parse.GetValue(insecure),
            };
            await using var app = BoxServer.Create(settings, [.. parse.UnmatchedTokens]);
            await app.StartAsync(cancellationToken);
            var where = settings.UnixSocket ?? string.Join(", ", BoxServer.ListeningUrls(app));
            await Console.Out.WriteLineAsync($"runable box: serving {directory} on {where} (API reference at /docs)");
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
