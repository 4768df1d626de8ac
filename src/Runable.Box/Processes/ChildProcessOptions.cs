namespace Runable.Box.Processes;

/// <summary>What <see cref="ChildProcess.Start"/> runs and where its output goes.</summary>
public sealed record ChildProcessOptions
{
    /// <summary>The program to run (looked up on PATH when not absolute).</summary>
    public required string FileName { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public required string WorkingDirectory { get; init; }

    /// <summary>The whole environment of the child (nothing is inherited beyond it).</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    /// <summary>cgroup.procs files the child is moved into as soon as it starts.</summary>
    public IReadOnlyList<string> Cgroups { get; init; } = [];

    public required IOutputSink Stdout { get; init; }

    public required IOutputSink Stderr { get; init; }
}
