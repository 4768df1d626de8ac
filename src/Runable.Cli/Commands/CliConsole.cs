using Spectre.Console;

namespace Runable.Cli.Commands;

/// <summary>The Spectre console the commands print tables to: colours on a terminal, plain wide text when piped.</summary>
internal static class CliConsole
{
    /// <summary>Whether <paramref name="writer"/> is a terminal (live displays) rather than a pipe, a file or a test's buffer.</summary>
    public static bool IsTerminal(TextWriter writer) => new AnsiConsoleOutput(writer).IsTerminal;

    public static IAnsiConsole Create(TextWriter writer)
    {
        var output = new AnsiConsoleOutput(writer);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = output,
            Ansi = output.IsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = output.IsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        if (!output.IsTerminal)
        {
            // Piped into a file or a pager: plain text, and long cells (fix commands, ids) not wrapped at 80 columns.
            console.Profile.Width = 200;
        }

        return console;
    }
}
