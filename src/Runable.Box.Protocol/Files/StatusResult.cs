namespace Runable.Box.Protocol.Files;

/// <summary>The original API's acknowledgement: <c>{"status": "ok"}</c>.</summary>
public sealed record StatusResult
{
    public string Status { get; init; } = "ok";
}
