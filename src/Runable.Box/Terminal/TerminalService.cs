using Runable.Box.Native;
using Runable.Box.Processes;
using Runable.Box.Protocol;

namespace Runable.Box.Terminal;

/// <summary>Opens interactive shells on pseudo-terminals, for people who want a real terminal in the box.</summary>
public sealed class TerminalService(BoxState state)
{
    /// <summary>Starts <c>bash -i</c> on a new pseudo-terminal of the given size, in the workspace (or <paramref name="cwd"/>).</summary>
    public TerminalSession Open(int cols = 120, int rows = 32, string? cwd = null)
    {
        if (cols is < 1 or > 1000 || rows is < 1 or > 1000)
        {
            throw BoxException.InvalidArgument("cols and rows must be between 1 and 1000.");
        }

        var workingDirectory = state.ResolveWorkingDirectory(cwd);
        var (master, slavePath) = ProcessInterop.OpenPty();
        try
        {
            ProcessInterop.Resize(master, cols, rows);
            var environment = state.CommandEnvironment(null);
            environment["TERM"] = "xterm-256color";
            // The shell reads no rc file (the host's may do anything, or hang), so it gets its prompt here.
            environment["PS1"] = "\\w\\$ ";
            environment.Remove("PAGER");
            environment.Remove("GIT_PAGER");

            // The child is a session leader (ChildProcess starts it through setsid), so the terminal it opens
            // without O_NOCTTY becomes its controlling terminal, and job control works in the shell.
            var child = ChildProcess.Start(new ChildProcessOptions
            {
                FileName = "/bin/sh",
                Arguments = ["-c", "exec \"$0\" --norc -i <\"$1\" >\"$1\" 2>&1", state.Options.Shell, slavePath],
                WorkingDirectory = workingDirectory,
                Environment = environment,
                Cgroups = state.WorkCgroupProcs,
                Stdout = NullSink.Instance,
                Stderr = NullSink.Instance,
            });
            return new TerminalSession(master, child);
        }
        catch
        {
            ProcessInterop.Close(master);
            throw;
        }
    }

    private sealed class NullSink : IOutputSink
    {
        public static readonly NullSink Instance = new();

        public void Append(ReadOnlySpan<byte> data)
        {
        }

        public void Complete()
        {
        }
    }
}
