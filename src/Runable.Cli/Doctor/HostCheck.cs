namespace Runable.Cli.Doctor;

/// <summary>One row of the doctor's report: a piece of the host Runable uses, and what was found.</summary>
/// <param name="What">The piece, as a user knows it (<c>bubblewrap</c>, <c>cgroups</c>).</param>
/// <param name="Status">Found, limited or missing.</param>
public sealed record HostCheck(string What, CheckStatus Status)
{
    /// <summary>The version found, or for non-programs a short summary of what was found (<c>v2</c>).</summary>
    public string? Version { get; init; }

    /// <summary>Where it was found, or why it is limited or missing.</summary>
    public string? Detail { get; init; }

    /// <summary>The exact command that installs or enables it; null when it is found.</summary>
    public string? Fix { get; init; }

    /// <summary>What Runable needs it for.</summary>
    public string UsedFor { get; init; } = "";

    /// <summary>Whether the box needs it today (it cannot run without it).</summary>
    public bool Required { get; init; }
}
