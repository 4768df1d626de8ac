namespace Runable.Box.Protocol.Shell;

/// <summary>A persistent shell session.</summary>
public sealed record ShellSessionInfo
{
    public required string SessionId { get; init; }

    /// <summary>The session's working directory after its last command.</summary>
    public string? Cwd { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>True while a command runs in the session.</summary>
    public bool Busy { get; init; }
}
