namespace Runable.Box.Protocol.Files;

/// <summary>Replace the one occurrence of <see cref="OldStr"/> in a file with <see cref="NewStr"/>.</summary>
public sealed record FileEditRequest
{
    public string? Path { get; init; }

    public string? OldStr { get; init; }

    public string? NewStr { get; init; }
}
