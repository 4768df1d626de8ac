namespace Runable.Box.Protocol;

/// <summary>A failure the caller can act on, carrying a stable snake_case <see cref="Code"/> (see <see cref="BoxErrorCodes"/>).</summary>
public class BoxException : Exception
{
    public BoxException(BoxErrorKind kind, string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Code = code;
    }

    /// <summary>The category of failure, which decides the HTTP status.</summary>
    public BoxErrorKind Kind { get; }

    /// <summary>The stable machine-readable error code.</summary>
    public string Code { get; }

    /// <summary>Extra fields reported with the error (for example the match count of an ambiguous edit).</summary>
    public IDictionary<string, object?> Details { get; } = new Dictionary<string, object?>();

    public static BoxException InvalidArgument(string message) => new(BoxErrorKind.InvalidArgument, BoxErrorCodes.InvalidArgument, message);

    public static BoxException NotFound(string code, string message) => new(BoxErrorKind.NotFound, code, message);
}
