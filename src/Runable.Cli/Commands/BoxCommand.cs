using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Runable.Box.Server.Hosting;

namespace Runable.Cli.Commands;

/// <summary><c>runable box</c>: runs the box server (the tools of one sandbox) in the foreground until Ctrl-C.</summary>
public static class BoxCommand
{
    /// <summary>Exit code for a command line that cannot work as given (no key, no workspace).</summary>
    public const int UsageError = 2;

    /// <summary>Creates the <c>box</c> command; <paramref name="environment"/> reads environment variables.</summary>
    public static Command Create(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var port = new Option<int>("--port")
        {
            Description = "TCP port to listen on; 0 picks a free one.",
            DefaultValueFactory = _ => 5001,
        };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                r.AddError("--port must be between 0 and 65535.");
            }
        });
        var unixSocket = new Option<FileInfo?>("--unix-socket")
        {
            Description = "Listen on this unix socket instead of TCP.",
            HelpName = "PATH",
        };
        var host = new Option<string>("--host")
        {
            Description = "IP address to bind.",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        host.Validators.Add(r =>
        {
            if (!IPAddress.TryParse(r.GetValueOrDefault<string>(), out _))
            {
                r.AddError("--host must be an IP address, such as 127.0.0.1 or 0.0.0.0.");
            }
        });
        var workspace = new Option<DirectoryInfo>("--workspace")
        {
            Description = "Directory the tools work in.",
            HelpName = "DIR",
            DefaultValueFactory = _ => new DirectoryInfo(Environment.CurrentDirectory),
        };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "Key callers must send (X-API-Key or Authorization: Bearer) [default: $RUNABLE_BOX_TOKEN, else $AGENT_API_KEY].",
            HelpName = "KEY",
        };
        var insecure = new Option<bool>("--insecure-no-auth")
        {
            Description = "Serve without a key. Anyone who can reach the address can run commands: local use only.",
        };

        var command = new Command("box", "Run the box server: shell, processes, terminal, files and MCP over HTTP, in a workspace.")
        {
            port, unixSocket, host, workspace, apiKey, insecure,
        };
        // Configuration for the server rides along as --Section:Key=value (for example
        // --Logging:LogLevel:Default=Debug or --Box:InlineOutputBytes=1048576); anything else unknown is an error.
        command.TreatUnmatchedTokensAsErrors = false;
        command.Validators.Add(r =>
        {
            if (r.GetResult(unixSocket) is not null && r.GetResult(port) is { Implicit: false })
            {
                r.AddError("--port and --unix-socket cannot be used together.");
            }

            if (r.GetResult(apiKey) is not null && r.GetResult(insecure) is not null)
            {
                r.AddError("--api-key and --insecure-no-auth cannot be used together.");
            }
        });

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var unknown = parseResult.UnmatchedTokens.Where(t => !IsConfigurationToken(t)).ToArray();
            if (unknown.Length > 0)
            {
                await error.WriteLineAsync($"runable box: unknown argument {string.Join(' ', unknown)}; see runable box --help " +
                    "(server settings are passed as --Section:Key=value).");
                return UsageError;
            }

            var noAuth = parseResult.GetValue(insecure);
            var key = noAuth ? null : ResolveApiKey(parseResult.GetValue(apiKey), environment);
            if (key is null && !noAuth)
            {
                await error.WriteLineAsync(
                    "runable box: no API key. Pass --api-key KEY, or set RUNABLE_BOX_TOKEN (or AGENT_API_KEY);\n" +
                    "  for example: runable box --api-key $(openssl rand -hex 32)\n" +
                    "  On a machine only you use, --insecure-no-auth serves without a key.");
                return UsageError;
            }

            var directory = Path.GetFullPath(parseResult.GetRequiredValue(workspace).FullName);
            if (!Directory.Exists(directory))
            {
                await error.WriteLineAsync($"runable box: the workspace {directory} does not exist. Create it (mkdir -p {directory}) or pass --workspace DIR.");
                return UsageError;
            }

            var settings = new BoxServerSettings
            {
                Port = parseResult.GetValue(port),
                Host = parseResult.GetRequiredValue(host),
                UnixSocket = parseResult.GetValue(unixSocket) is { } socket ? Path.GetFullPath(socket.FullName) : null,
                Workspace = directory,
                ApiKey = key,
                InsecureNoAuth = noAuth,
            };
            return await RunAsync(settings, [.. parseResult.UnmatchedTokens], output, error, cancellationToken);
        });
        return command;
    }

    /// <summary>The key to require: the option's, else <c>RUNABLE_BOX_TOKEN</c>, else <c>AGENT_API_KEY</c>;
    /// empty values count as unset.</summary>
    public static string? ResolveApiKey(string? option, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new[] { option, environment("RUNABLE_BOX_TOKEN"), environment("AGENT_API_KEY") }
            .FirstOrDefault(k => !string.IsNullOrWhiteSpace(k));
    }

    private static bool IsConfigurationToken(string token) =>
        token.StartsWith("--", StringComparison.Ordinal) && token.IndexOf(':', StringComparison.Ordinal) is > 2 &&
        token.Contains('=', StringComparison.Ordinal);

    private static async Task<int> RunAsync(BoxServerSettings settings, string[] configuration, TextWriter output,
        TextWriter error, CancellationToken cancellationToken)
    {
        // The host stops on Ctrl-C and SIGTERM itself, killing every process group the box started; its own
        // start-up chatter is left out so the one line below is what the user reads.
        await using var app = BoxServer.Create(settings, configuration,
            builder => builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning));
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            var where = settings.UnixSocket ?? $"{settings.Host}:{settings.Port}";
            await error.WriteLineAsync($"runable box: cannot listen on {where}: {e.Message}" +
                (settings.UnixSocket is null ? " Pick another port with --port." : ""));
            return 1;
        }

        var url = string.Join(", ", BoxServer.ListeningUrls(app));
        await output.WriteLineAsync($"runable box: listening on {url} (workspace {settings.Workspace}); Ctrl-C stops it.");
        if (settings.InsecureNoAuth)
        {
            await error.WriteLineAsync($"runable box: warning: no API key; anyone who can reach {url} can run commands as {Environment.UserName}.");
        }

        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
}
