namespace Runable.Box.Protocol.Files;

/// <summary>A request naming one path (<c>POST /files/mkdir</c>, <c>POST /fs/delete</c>).</summary>
public sealed record FilePathRequest
{
    public string? Path { get; init; }
}
