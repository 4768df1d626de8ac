namespace Runable.Box.Server.Hosting;

/// <summary>How the box server listens and whom it lets in; set by <c>runable box</c> or by a test host.</summary>
public sealed record BoxServerSettings
{
    /// <summary>TCP port on <see cref="Host"/>; 0 picks a free one. Ignored when <see cref="UnixSocket"/> is set.</summary>
    public int Port { get; init; } = 5001;

    /// <summary>The address to bind; loopback by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Listen on this unix socket instead of TCP.</summary>
    public string? UnixSocket { get; init; }

    /// <summary>The directory the tools work in.</summary>
    public required string Workspace { get; init; }

    /// <summary>The key callers must present; null only with <see cref="InsecureNoAuth"/>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Serve without authentication (local use only).</summary>
    public bool InsecureNoAuth { get; init; }

    /// <summary>Largest request body of the upload routes (file and archive bodies).</summary>
    public long MaxUploadBytes { get; init; } = 1L << 30;

    /// <summary>Largest JSON request body.</summary>
    public long MaxJsonBytes { get; init; } = 16L << 20;

    /// <summary>Largest WebSocket message the server accepts.</summary>
    public int MaxWebSocketMessageBytes { get; init; } = 1 << 20;
}
