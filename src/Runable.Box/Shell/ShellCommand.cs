using Runable.Box.Processes;
using Runable.Box.Protocol.Shell;

namespace Runable.Box.Shell;

/// <summary>A command started by <see cref="ShellService.StartAsync"/>, to be awaited with <see cref="ShellService.WaitAsync"/>.</summary>
public sealed class ShellCommand
{
    internal ShellCommand(SupervisedProcess process, TimeSpan timeout, OnTimeout onTimeout, ShellSession? session, bool sessionReset, long startTimestamp)
    {
        Process = process;
        Timeout = timeout;
        OnTimeout = onTimeout;
        Session = session;
        SessionReset = sessionReset;
        StartTimestamp = startTimestamp;
    }

    /// <summary>The supervised process whose spools hold the command's whole output.</summary>
    public SupervisedProcess Process { get; }

    public TimeSpan Timeout { get; }

    public OnTimeout OnTimeout { get; }

    internal ShellSession? Session { get; }

    internal bool SessionReset { get; set; }

    internal long StartTimestamp { get; }
}
