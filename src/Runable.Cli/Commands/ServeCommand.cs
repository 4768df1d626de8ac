using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Hosting;
using Runable.Orchestrator.Hosting;
using Runable.Sandboxes;

namespace Runable.Cli.Commands;

/// <summary><c>runable serve</c>: runs the orchestrator (keys, tenants, sandboxes, the box proxy) until Ctrl-C.</summary>
public static class ServeCommand
{
    /// <summary>Creates the <c>serve</c> command; <paramref name="environment"/> reads environment variables.</summary>
    public static Command Create(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var port = new Option<int>("--port") { Description = "TCP port to listen on; 0 picks a free one.", DefaultValueFactory = _ => 5100 };
        var host = new Option<string>("--host") { Description = "IP address to bind.", DefaultValueFactory = _ => "127.0.0.1" };
        var data = new Option<DirectoryInfo>("--data")
        {
            Description = "Data directory: the database and the sandboxes' host directories (never visible in a sandbox).",
            HelpName = "DIR",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Environment.CurrentDirectory, ".runable", "data")),
        };
        var pool = new Option<int>("--pool") { Description = "Sandboxes kept ready for instant claims.", DefaultValueFactory = _ => 2 };
        var boxProgram = new Option<DirectoryInfo?>("--box-program")
        {
            Description = "Directory of the runable-box program sandboxes run [default: the build of this checkout].",
            HelpName = "DIR",
        };
        var egressHosts = new Option<string[]>("--egress-host")
        {
            Description = "Map a name to an address in the egress proxy's hosts file (repeatable); the address is still checked.",
            HelpName = "NAME=IP",
        };
        var egressTrust = new Option<string[]>("--egress-trust")
        {
            Description = "An address sandboxes may reach through the egress proxy although it is not public, e.g. an internal mirror (repeatable).",
            HelpName = "IP",
        };
        var command = new Command("serve", "Run the orchestrator: API keys and tenants, sandboxes on demand, and the proxy to their boxes.")
        {
            port, host, data, pool, boxProgram, egressHosts, egressTrust,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            if (!IPAddress.TryParse(parseResult.GetRequiredValue(host), out _))
            {
                await error.WriteLineAsync("runable serve: --host must be an IP address, such as 127.0.0.1.");
                return BoxCommand.UsageError;
            }

            var hosts = new Dictionary<string, IPAddress[]>(StringComparer.OrdinalIgnoreCase);
            foreach (var entry in parseResult.GetValue(egressHosts) ?? [])
            {
                var parts = entry.Split('=', 2);
                if (parts.Length != 2 || Runable.Sandboxes.Network.NetworkPolicy.NormalizeHost(parts[0]) is null || !IPAddress.TryParse(parts[1], out var address))
                {
                    await error.WriteLineAsync($"runable serve: --egress-host '{entry}' must be NAME=IP, such as mirror.internal=10.1.2.3.");
                    return BoxCommand.UsageError;
                }

                hosts[parts[0]] = [.. hosts.GetValueOrDefault(parts[0], []), address];
            }

            var trusted = new HashSet<IPAddress>();
            foreach (var entry in parseResult.GetValue(egressTrust) ?? [])
            {
                if (!IPAddress.TryParse(entry, out var address))
                {
                    await error.WriteLineAsync($"runable serve: --egress-trust '{entry}' must be an IP address.");
                    return BoxCommand.UsageError;
                }

                trusted.Add(address);
            }

            string programDirectory;
            try
            {
                programDirectory = parseResult.GetValue(boxProgram)?.FullName ?? BoxProgram.Locate();
            }
            catch (InvalidOperationException e)
            {
                await error.WriteLineAsync($"runable serve: {e.Message}");
                return BoxCommand.UsageError;
            }

            var settings = new OrchestratorSettings
            {
                Port = parseResult.GetValue(port),
                Host = parseResult.GetRequiredValue(host),
                DataDirectory = Path.GetFullPath(parseResult.GetRequiredValue(data).FullName),
                RunableDirectory = programDirectory,
                PoolSize = Math.Max(0, parseResult.GetValue(pool)),
                Egress = new Runable.Sandboxes.Network.EgressOptions { Hosts = hosts, TrustedAddresses = trusted },
                AdminKey = environment("AGENT_API_KEY") is { Length: > 0 } key ? key : null,
                CorsOrigins = (environment("RUNABLE_CORS_ORIGINS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                OnAdminKeyCreated = key => output.WriteLine($"runable serve: admin key (shown only now, stored hashed): {key}"),
            };
            Microsoft.AspNetCore.Builder.WebApplication created;
            try
            {
                created = OrchestratorServer.Create(settings, [.. parseResult.UnmatchedTokens]);
            }
            catch (InvalidOperationException e) when (e.InnerException is IOException)
            {
                await error.WriteLineAsync($"runable serve: {e.Message}");
                return 1;
            }

            await using var app = created;
            await app.StartAsync(cancellationToken);
            await output.WriteLineAsync($"runable serve: listening on {string.Join(", ", OrchestratorServer.ListeningUrls(app))} (data in {settings.DataDirectory}); Ctrl-C stops it and every sandbox.");
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
