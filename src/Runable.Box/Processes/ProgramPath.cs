namespace Runable.Box.Processes;

/// <summary>Finds programs the way a shell would: a path as given, a bare name on <c>PATH</c>.</summary>
public static class ProgramPath
{
    /// <summary>The full path of <paramref name="program"/>, or null when it is not installed.</summary>
    public static string? Find(string program) => Find(program, null);

    /// <summary>
    /// The full path of <paramref name="program"/> looked up on <paramref name="path"/> (a <c>PATH</c> value; this
    /// process's when null), as the shell would for a child with that environment; null when it is not there.
    /// </summary>
    public static string? Find(string program, string? path) => program.Contains('/', StringComparison.Ordinal)
        ? File.Exists(program) ? program : null
        : (path ?? Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':')
            .Where(dir => dir.Length > 0).Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    /// <summary>True when <paramref name="program"/> is installed.</summary>
    public static bool Exists(string program) => Find(program) is not null;
}
