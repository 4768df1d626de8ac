using System.Text.Json;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Server.Processes;

/// <summary>
/// Output chunks travel in server-sent events as JSON strings: SSE framing treats a bare carriage return as a
/// line end, so raw text would lose the <c>\r</c> of every progress bar.
/// </summary>
internal static class SseText
{
    public static string Encode(string chunk) => JsonSerializer.Serialize(chunk, BoxJsonContext.Default.String);
}
