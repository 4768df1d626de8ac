namespace Runable.Cli.Doctor;

/// <summary>The outcome of checking one thing Runable uses on this host.</summary>
/// <param name="What">What was checked, e.g. "bubblewrap".</param>
/// <param name="Status">Found, limited (present but not fully usable) or missing.</param>
/// <param name="Version">The version found, or a short note.</param>
/// <param name="Fix">The command that installs or fixes it; empty when nothing is to be done.</param>
/// <param name="UsedFor">What Runable needs it for.</param>
/// <param name="Required">True when the box cannot run without it today.</param>
public sealed record HostCheck(string What, CheckStatus Status, string Version, string Fix, string UsedFor, bool Required = false);
