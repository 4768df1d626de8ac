using System.Text.Json.Nodes;

namespace Runable.Box.Protocol.Code;

/// <summary>
/// One output of a run: <c>stream</c> (<see cref="Name"/>, <see cref="Text"/>), <c>result</c> or <c>display</c>
/// (<see cref="Data"/> by MIME type; images base64), or <c>error</c> (<see cref="Ename"/>, <see cref="Evalue"/>,
/// <see cref="Traceback"/>).
/// </summary>
public sealed record CodeOutput
{
    public required string Type { get; init; }

    /// <summary><c>stdout</c> or <c>stderr</c>, for streams.</summary>
    public string? Name { get; init; }

    public string? Text { get; init; }

    /// <summary>The representations of a result or display, by MIME type (<c>text/plain</c>, <c>image/png</c>, ...).</summary>
    public JsonObject? Data { get; init; }

    public string? Ename { get; init; }

    public string? Evalue { get; init; }

    public IReadOnlyList<string>? Traceback { get; init; }
}
