namespace Runable.Box.Protocol;

/// <summary>What kind of failure a <see cref="BoxException"/> reports; the HTTP edge maps each to one status code.</summary>
public enum BoxErrorKind
{
    /// <summary>The request is malformed or names an invalid value (400).</summary>
    InvalidArgument,
    /// <summary>The request would reach outside what the caller may touch (403).</summary>
    Forbidden,
    /// <summary>The named object does not exist (404).</summary>
    NotFound,
    /// <summary>The request conflicts with the current state (409).</summary>
    Conflict,
    /// <summary>The request or its result is larger than allowed (413).</summary>
    TooLarge,
    /// <summary>A limit on concurrent objects (processes, sessions) is reached (429).</summary>
    LimitReached,
    /// <summary>A dependency the request needs is not available on this host (503).</summary>
    Unavailable,
}
