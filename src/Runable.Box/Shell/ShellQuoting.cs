namespace Runable.Box.Shell;

/// <summary>Quotes text as one bash word.</summary>
internal static class ShellQuoting
{
    /// <summary>Wraps <paramref name="value"/> in single quotes, escaping the single quotes inside it.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
