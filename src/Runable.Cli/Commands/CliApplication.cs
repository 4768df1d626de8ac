using System.CommandLine;

namespace Runable.Cli.Commands;

/// <summary>The <c>runable</c> command line: its root command and one sub-command per class in this folder.</summary>
public static class CliApplication
{
    /// <summary>Builds the root command; <paramref name="environment"/> reads environment variables (tests pass
    /// their own).</summary>
    public static RootCommand Build(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var root = new RootCommand("Runable: run coding agents and their tools in sandboxes.")
        {
            BoxCommand.Create(environment),
            ServeCommand.Create(environment),
            SandboxCommand.Create(environment),
            ShellCommand.Create(environment),
            DoctorCommand.Create(),
        };
        foreach (var command in JobCommands.Create(environment))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default) =>
        // The box server stops itself on Ctrl-C and SIGTERM (gracefully, killing what it started), so
        // System.CommandLine is told not to handle termination.
        Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, cancellationToken);
}
