using System.CommandLine;
using System.Text.Json;
using Runable.Cli.Doctor;
using Spectre.Console;

namespace Runable.Cli.Commands;

/// <summary><c>runable doctor</c>: a table of what Runable uses on this host and how to fix what is missing.</summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the checks as JSON." };
        var command = new Command("doctor", "Check this host for everything Runable uses, and print the command that fixes each missing piece.") { json };
        command.SetAction(parse =>
        {
            var checks = HostDoctor.CheckAll();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(checks, new JsonSerializerOptions
                {
                    WriteIndented = true,
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                    TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
                }));
                return 0;
            }

            Render(checks);
            return 0;
        });
        return command;
    }

    private static void Render(IReadOnlyList<HostCheck> checks)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("what").AddColumn("status").AddColumn("version").AddColumn("needed for").AddColumn("fix");
        foreach (var check in checks)
        {
            var status = check.Status switch
            {
                CheckStatus.Found => "[green]found[/]",
                CheckStatus.Limited => "[yellow]limited[/]",
                _ => check.Required ? "[red]missing (required)[/]" : "[red]missing[/]",
            };
            table.AddRow(Markup.Escape(check.What), status, Markup.Escape(check.Version), Markup.Escape(check.UsedFor), Markup.Escape(check.Fix));
        }

        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 160;
        }

        AnsiConsole.Write(table);
        var missingRequired = checks.Where(c => c.Required && c.Status == CheckStatus.Missing).ToList();
        AnsiConsole.MarkupLine(missingRequired.Count == 0
            ? "[green]The box server has what it needs.[/] Missing optional pieces only turn off the features that use them."
            : $"[red]The box server cannot run without: {Markup.Escape(string.Join(", ", missingRequired.Select(c => c.What)))}.[/]");
    }
}
