namespace Runable.Box.Protocol.Shell;

/// <summary>Options for <c>POST /shell/sessions</c>.</summary>
public sealed record ShellSessionRequest
{
    /// <summary>The session's starting directory; defaults to the workspace.</summary>
    public string? Cwd { get; init; }

    /// <summary>Environment variables exported in the session.</summary>
    public Dictionary<string, string>? Env { get; init; }
}
