using System.CommandLine;

namespace Runable.Cli.Commands;

/// <summary>The <c>runable</c> command line: its root command and subcommands.</summary>
public static class CliApplication
{
    /// <summary>Builds the root command with every subcommand.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("Runable: run coding agents in secure sandboxes.");
        root.Subcommands.Add(BoxCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default) =>
        Build().Parse(args).InvokeAsync(cancellationToken: cancellationToken);
}
