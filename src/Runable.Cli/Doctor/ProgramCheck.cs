namespace Runable.Cli.Doctor;

/// <summary>A check that runs a program to prove it is there and to read its version.</summary>
/// <param name="What">The row's name.</param>
/// <param name="FileName">The program: an absolute path, or a name looked up on PATH.</param>
/// <param name="Arguments">Arguments that make it print its version and exit.</param>
/// <param name="Fix">The command that installs it.</param>
/// <param name="UsedFor">What Runable needs it for.</param>
public sealed record ProgramCheck(string What, string FileName, IReadOnlyList<string> Arguments, string Fix, string UsedFor = "")
{
    /// <summary>Whether the box needs it today.</summary>
    public bool Required { get; init; }

    /// <summary>The Debian package to ask dpkg for the version, for programs that do not print one (the probe
    /// then only proves the program runs).</summary>
    public string? DebianPackage { get; init; }

    /// <summary>A failing probe means the piece is missing (an <c>import</c> that fails), not that it is limited.</summary>
    public bool FailureMeansMissing { get; init; }
}
