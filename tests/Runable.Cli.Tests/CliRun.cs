using System.CommandLine;
using Runable.Cli.Commands;

namespace Runable.Cli.Tests;

/// <summary>Runs the <c>runable</c> command line in this process with its own environment and captured output.</summary>
internal static class CliRun
{
    public static async Task<CliResult> RunAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null,
        TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        output ??= new WatchedWriter();
        var error = new WatchedWriter();
        var root = CliApplication.Build(name => environment?.GetValueOrDefault(name));
        var exitCode = await root.Parse(args).InvokeAsync(
            new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null },
            cancellationToken);
        return new CliResult(exitCode, output.ToString() ?? "", error.ToString());
    }
}

/// <summary>What a run of the command line left: its exit code and what it printed.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error);
