using System.CommandLine;
using System.Text.Json;
using Runable.Cli.Doctor;
using Spectre.Console;

namespace Runable.Cli.Commands;

/// <summary><c>runable doctor [--json]</c>: reports what of the host Runable uses is there, and how to fix
/// what is not. Always exits 0: it is a report, not a gate.</summary>
public static class DoctorCommand
{
    /// <summary>Creates the <c>doctor</c> command.</summary>
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the report as JSON instead of a table." };
        var command = new Command("doctor", "Check this host for everything Runable uses, and say how to fix what is missing.")
        {
            json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var report = new DoctorReport(await new HostDoctor().RunAsync(cancellationToken));
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(report, DoctorJsonContext.Default.DoctorReport));
            }
            else
            {
                Render(report, output);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Writes the report as a table, then one line on whether the box can run.</summary>
    public static void Render(DoctorReport report, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(report);
        var console = CliConsole.Create(writer);

        var table = new Table().Border(TableBorder.Rounded).AddColumns("what", "status", "version", "needed for", "fix");
        foreach (var check in report.Checks)
        {
            var what = Markup.Escape(check.What) + (check.Required ? " [bold](required)[/]" : "");
            var status = check.Status switch
            {
                CheckStatus.Found => "[green]found[/]",
                CheckStatus.Limited => "[yellow]limited[/]",
                _ => check.Required ? "[bold red]missing[/]" : "[red]missing[/]",
            };
            var version = Markup.Escape(check.Version ?? "");
            if (check.Detail is { } detail)
            {
                version += (version.Length > 0 ? "\n" : "") + $"[grey]{Markup.Escape(detail)}[/]";
            }

            table.AddRow(what, status, version, Markup.Escape(check.UsedFor), Markup.Escape(check.Fix ?? ""));
        }

        console.Write(table);

        var missing = report.Checks.Count(c => c.Status == CheckStatus.Missing);
        var limited = report.Checks.Count(c => c.Status == CheckStatus.Limited);
        var found = report.Checks.Count - missing - limited;
        var counts = $"{found} found, {limited} limited, {missing} missing.";
        if (report.BoxReady)
        {
            console.MarkupLine($"[green]The box has what it needs.[/] {counts}");
        }
        else
        {
            var absent = string.Join(", ", report.Checks.Where(c => c.Required && c.Status != CheckStatus.Found).Select(c => c.What));
            console.MarkupLine($"[bold red]The box cannot run: {Markup.Escape(absent)} not usable.[/] {counts}");
        }

        if (report.Checks.Any(c => c.Fix?.Contains("apt-get install", StringComparison.Ordinal) == true))
        {
            console.MarkupLine("Run the fix commands above; in a Runable checkout, [bold]./scripts/setup.sh[/] installs every missing Debian package.");
        }
        else if (missing + limited > 0)
        {
            console.MarkupLine("Run the fix commands above to turn on the features that need them.");
        }
    }
}
