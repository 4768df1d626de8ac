using System.Text.Json;
using Runable.Web.Api;

namespace Runable.Web.Components.Trajectory;

/// <summary>
/// A job's events folded into what a person reads: each step with its text and its tool calls, each call with its result,
/// and the messages, status changes, context decisions and errors between them. Events are taken in sequence order and
/// each at most once, so a stream resumed after a reconnect never shows an event twice.
/// </summary>
public sealed class TrajectoryModel
{
    private readonly List<TrajectoryItem> _items = [];
    private readonly Dictionary<string, ToolCallItem> _calls = new(StringComparer.Ordinal);

    /// <summary>The items in the order they happened.</summary>
    public IReadOnlyList<TrajectoryItem> Items => _items;

    /// <summary>The sequence number of the last event taken (0 before any); a resumed stream starts after it.</summary>
    public long LastSeq { get; private set; }

    /// <summary>How many events were taken.</summary>
    public int EventCount { get; private set; }

    /// <summary>Takes <paramref name="e"/> unless an event with its sequence number (or a later one) was taken; true when taken.</summary>
    public bool Add(JobEventView e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Seq <= LastSeq)
        {
            return false;
        }

        LastSeq = e.Seq;
        EventCount++;
        var data = e.Data;
        switch (e.Type)
        {
            case "assistant":
                var step = new StepItem(e.Seq, e.CreatedAt, Int(data, "step"), Text(data, "text"));
                _items.Add(step);
                if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        var item = new ToolCallItem(Text(call, "id") ?? "", Text(call, "name") ?? "tool", Arguments(call));
                        step.Calls.Add(item);
                        _calls[item.Id] = item;
                    }
                }

                break;
            case "tool_call":
                var id = Text(data, "id") ?? "";
                if (_calls.TryGetValue(id, out var known))
                {
                    known.Started = true;
                }
                else
                {
                    // A call its step did not list (a resumed run): shown on its own.
                    var orphan = new ToolCallItem(id, Text(data, "name") ?? "tool", Arguments(data)) { Started = true };
                    _calls[id] = orphan;
                    var holder = new StepItem(e.Seq, e.CreatedAt, null, null);
                    holder.Calls.Add(orphan);
                    _items.Add(holder);
                }

                break;
            case "tool_result":
                var resultId = Text(data, "id") ?? "";
                if (!_calls.TryGetValue(resultId, out var target))
                {
                    target = new ToolCallItem(resultId, Text(data, "name") ?? "tool", []);
                    _calls[resultId] = target;
                    var holder = new StepItem(e.Seq, e.CreatedAt, null, null);
                    holder.Calls.Add(target);
                    _items.Add(holder);
                }

                target.Result = new ToolResultItem(
                    Text(data, "text") ?? "",
                    Bool(data, "is_error"),
                    Bool(data, "truncated"),
                    Text(data, "full_output_path"),
                    Long(data, "duration_ms"),
                    Images(data, out var kept),
                    kept);
                break;
            case "message":
                _items.Add(new MessageItem(e.Seq, e.CreatedAt, Text(data, "text") ?? ""));
                break;
            case "status":
                _items.Add(new StatusItem(e.Seq, e.CreatedAt, Text(data, "status") ?? "", Text(data, "reason"), Text(data, "message") ?? Text(data, "error")));
                break;
            case "context":
                _items.Add(new ContextItem(e.Seq, e.CreatedAt, Text(data, "action") ?? Text(data, "kind") ?? Text(data, "decision") ?? "context", data.Clone()));
                break;
            case "error":
                _items.Add(new ErrorItem(e.Seq, e.CreatedAt, Text(data, "message") ?? Text(data, "error") ?? Text(data, "detail") ?? data.ToString()));
                break;
            case "usage":
                // Folded into the job's header (steps, tokens, cost); kept here for the totals.
                LastUsage = data.Clone();
                break;
            default:
                _items.Add(new OtherItem(e.Seq, e.CreatedAt, e.Type, data.Clone()));
                break;
        }

        return true;
    }

    /// <summary>The data of the last <c>usage</c> event (running totals), if any.</summary>
    public JsonElement? LastUsage { get; private set; }

    private static IReadOnlyList<KeyValuePair<string, string>> Arguments(JsonElement call)
    {
        if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("arguments", out var arguments))
        {
            return [];
        }

        if (arguments.ValueKind == JsonValueKind.String && arguments.GetString() is { } raw)
        {
            // Some providers hand arguments over as one JSON string.
            try
            {
                using var parsed = JsonDocument.Parse(raw);
                return parsed.RootElement.ValueKind == JsonValueKind.Object ? Pairs(parsed.RootElement) : [new("arguments", raw)];
            }
            catch (JsonException)
            {
                return [new("arguments", raw)];
            }
        }

        return arguments.ValueKind == JsonValueKind.Object ? Pairs(arguments) : [new("arguments", arguments.ToString())];
    }

    private static List<KeyValuePair<string, string>> Pairs(JsonElement o) =>
        [.. o.EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.ToString()))];

    /// <summary>The images a result carries inline (PNG/JPEG/GIF/WebP as base64), and how many the model saw in all.</summary>
    private static IReadOnlyList<InlineImage> Images(JsonElement data, out int count)
    {
        count = 0;
        if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("images", out var images))
        {
            return [];
        }

        if (images.ValueKind == JsonValueKind.Number)
        {
            // The agent's events: how many images the model saw, and the first few themselves in image_data.
            count = images.TryGetInt32(out var n) ? n : 0;
            if (!data.TryGetProperty("image_data", out images) || images.ValueKind != JsonValueKind.Array)
            {
                return [];
            }

            var total = count;
            var kept = ImageArray(images, out _);
            count = Math.Max(total, kept.Count);
            return kept;
        }

        return ImageArray(images, out count);
    }

    /// <summary>The images of an array of <c>{media_type, data}</c> objects (or base64 strings), and how many it holds.</summary>
    private static IReadOnlyList<InlineImage> ImageArray(JsonElement images, out int count)
    {
        count = 0;
        if (images.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var found = new List<InlineImage>();
        foreach (var image in images.EnumerateArray())
        {
            count++;
            var (type, base64) = image.ValueKind switch
            {
                JsonValueKind.String => ("image/png", image.GetString()),
                JsonValueKind.Object => (Text(image, "media_type") ?? Text(image, "mime_type") ?? "image/png", Text(image, "data") ?? Text(image, "base64")),
                _ => (null, null),
            };
            if (base64 is { Length: > 0 } && InlineImage.Create(type, base64) is { } inline)
            {
                found.Add(inline);
            }
        }

        return found;
    }

    private static string? Text(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : null;

    private static long? Long(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;

    private static bool Bool(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}
