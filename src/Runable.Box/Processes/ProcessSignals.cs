using Runable.Box.Native;
using Runable.Box.Protocol;

namespace Runable.Box.Processes;

/// <summary>The signals callers may send to a process group, by name.</summary>
public static class ProcessSignals
{
    /// <summary>The signal number for a name such as <c>INT</c>, <c>SIGTERM</c> or <c>9</c>; a 400 for anything else.</summary>
    public static int Parse(string? name) =>
        ProcessInterop.ParseSignal(name)
        ?? throw BoxException.InvalidArgument($"signal '{name}' is not one of INT, TERM, KILL, HUP, QUIT, USR1, USR2, STOP, CONT.");
}
