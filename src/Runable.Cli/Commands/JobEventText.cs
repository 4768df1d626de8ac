using System.Globalization;
using System.Text.Json;

namespace Runable.Cli.Commands;

/// <summary>One line of text for a job's event, as <c>runable logs</c> and <c>runable run</c> print it.</summary>
public static class JobEventText
{
    private const int Width = 160;

    /// <summary>The event's line, e.g. <c>#7 → bash: pytest -q</c>; <paramref name="json"/> is the event as the API sends it.</summary>
    public static string Line(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var seq = root.TryGetProperty("seq", out var s) ? s.GetInt64().ToString(CultureInfo.InvariantCulture) : "?";
        var type = root.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        var data = root.TryGetProperty("data", out var d) ? d : default;
        return $"#{seq} {Describe(type, data)}";
    }

    private static string Describe(string type, JsonElement data) => type switch
    {
        "status" => $"status: {Text(data, "status")}{Suffix(data, "reason")}{Suffix(data, "error")}",
        "message" => $"you: {Short(Text(data, "text"))}",
        "assistant" => $"assistant: {Short(Text(data, "text"))}",
        "tool_call" => $"→ {Text(data, "name")}: {Short(Arguments(data))}",
        "workspace" => $"workspace ready in {Text(data, "sandbox_id")} (baseline {Abbreviated(Text(data, "baseline"))})",
        "resumed" => $"resumed in {Text(data, "sandbox_id")} after event #{Text(data, "from_event")}",
        "tool_result" => $"← {Text(data, "name")}{(data.ValueKind == JsonValueKind.Object && data.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True ? " (error)" : "")}: {Short(Text(data, "text"))}",
        "usage" => $"usage: {Text(data, "input_tokens")} in, {Text(data, "output_tokens")} out{Suffix(data, "cost_usd", "$")}",
        "error" => $"error: {Short(Text(data, "message"))}",
        _ => $"{type}: {Short(data.ValueKind == JsonValueKind.Undefined ? "" : data.GetRawText())}",
    };

    private static string Text(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString() ?? "",
                JsonValueKind.Null => "",
                _ => value.GetRawText(),
            }
            : "";

    /// <summary>The keys whose values say most about a call, in the order they are shown.</summary>
    private static readonly string[] s_telling = ["command", "action", "path", "language", "coordinate", "text", "code", "summary", "query", "id"];

    /// <summary>
    /// A call's arguments as a person reads them: the values of its telling keys (at most two: <c>pytest -q</c>,
    /// <c>str_replace calc.py</c>), or its JSON when it has none of them.
    /// </summary>
    private static string Arguments(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("arguments", out var arguments) || arguments.ValueKind != JsonValueKind.Object)
        {
            return Text(data, "arguments");
        }

        var values = s_telling.Select(key => Text(arguments, key)).Where(v => v.Length > 0).Take(2).ToList();
        return values.Count > 0 ? string.Join(' ', values) : arguments.GetRawText();
    }

    private static string Abbreviated(string commit) => commit.Length > 12 ? commit[..12] : commit;

    private static string Suffix(JsonElement data, string name, string prefix = "") =>
        Text(data, name) is { Length: > 0 } value ? $" ({prefix}{Short(value)})" : "";

    /// <summary>The first line, cut to the width, saying how much more there was.</summary>
    private static string Short(string text)
    {
        var lines = text.Split('\n');
        var first = lines[0].TrimEnd('\r');
        var more = lines.Length > 1 ? $" … (+{lines.Length - 1} lines)" : "";
        return (first.Length > Width ? first[..Width] + "…" : first) + more;
    }
}
