using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Runable.Orchestrator.Tests.Context;

/// <summary>
/// Checks a prompt the way a provider and a careful reader would, without the product's own checks: its OpenAI Chat
/// shape and its Anthropic Messages shape against each API's rules for tool calls and results, its size counted anew
/// from the OpenAI shape, and the context manager's promises against what the test knows of the history (system prompt,
/// task and user messages verbatim; the last K exchanges in full; every output either shown, or named by its event).
/// Returns the problems found, empty when there are none.
/// </summary>
public sealed partial class IndependentValidator
{
    private static readonly Tokenizer s_tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Tokens of a text (memoized: histories repeat their outputs in prompt after prompt).</summary>
    public int Count(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        if (!_counts.TryGetValue(text, out var count))
        {
            count = s_tokenizer.CountTokens(text);
            if (text.Length > 64)
            {
                _counts[text] = count;
            }
        }

        return count;
    }

    /// <summary>Every problem of a prompt (as message objects) in both shapes and against <paramref name="facts"/>.</summary>
    public List<string> Check(IReadOnlyList<ChatMessage> prompt, PromptFacts facts)
    {
        var problems = CheckOpenAI(PromptShapes.OpenAI(prompt), facts);
        problems.AddRange(CheckAnthropic(prompt));
        return problems;
    }

    /// <summary>The OpenAI request's tokens: each message's 4, its text, images by size, each call's 8 + name + arguments, each result's 8.</summary>
    public long Tokens(JsonArray messages)
    {
        long tokens = 0;
        foreach (var message in messages.OfType<JsonObject>())
        {
            tokens += 4;
            var content = message["content"];
            if (content is JsonValue)
            {
                tokens += Count((string?)content);
            }
            else if (content is JsonArray parts)
            {
                foreach (var part in parts.OfType<JsonObject>())
                {
                    tokens += (string?)part["type"] == "text" ? Count((string?)part["text"]) : ImageTokens((string?)part["image_url"]?["url"]);
                }
            }

            if ((string?)message["role"] == "tool")
            {
                tokens += 8;
            }

            foreach (var call in (message["tool_calls"] as JsonArray ?? []).OfType<JsonObject>())
            {
                tokens += 8 + Count((string?)call["function"]?["name"]) + Count((string?)call["function"]?["arguments"]);
            }
        }

        return tokens;
    }

    /// <summary>The OpenAI Chat rules, the budget, and the manager's promises.</summary>
    public List<string> CheckOpenAI(JsonArray messages, PromptFacts facts)
    {
        var problems = new List<string>();
        var list = messages.OfType<JsonObject>().ToList();
        if (list.Count == 0 || (string?)list[0]["role"] != "system")
        {
            problems.Add("openai: the first message is not the system prompt");
        }
        else if (facts.SystemPrompt is not null && (string?)list[0]["content"] != facts.SystemPrompt)
        {
            problems.Add("openai: the system prompt is not verbatim");
        }

        var users = list.Where(m => (string?)m["role"] == "user").ToList();
        if (users.Count == 0 || (facts.Task is not null && (users[0]["content"] as JsonValue)?.GetValue<string>() != facts.Task))
        {
            problems.Add("openai: the task is not the first user message, verbatim");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var shownOutputs = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < list.Count; i++)
        {
            var message = list[i];
            var role = (string?)message["role"];
            if (role == "system")
            {
                problems.Add($"openai: message {i} is a second system message");
            }
            else if (role == "tool")
            {
                problems.Add($"openai: tool message {i} does not follow an assistant message with its call");
            }
            else if (role == "user" && message["content"] is JsonValue v && string.IsNullOrEmpty(v.GetValue<string>()))
            {
                problems.Add($"openai: user message {i} is empty");
            }
            else if (role == "assistant")
            {
                var calls = (message["tool_calls"] as JsonArray ?? []).OfType<JsonObject>().Select(c => (string?)c["id"] ?? "").ToList();
                if (calls.Count == 0 && string.IsNullOrEmpty((string?)message["content"]))
                {
                    problems.Add($"openai: assistant message {i} has neither content nor tool calls");
                }

                var expected = new HashSet<string>(StringComparer.Ordinal);
                foreach (var id in calls)
                {
                    if (id.Length == 0 || !ids.Add(id) || !expected.Add(id))
                    {
                        problems.Add($"openai: call id '{id}' in message {i} is empty or repeated");
                    }
                }

                // Every call's result, in tool messages right after, and nothing else in between.
                var j = i + 1;
                for (; j < list.Count && (string?)list[j]["role"] == "tool"; j++)
                {
                    var answered = (string?)list[j]["tool_call_id"] ?? "";
                    if (!expected.Remove(answered))
                    {
                        problems.Add($"openai: tool message {j} answers '{answered}', which message {i} did not call or was answered already");
                    }

                    shownOutputs[answered] = (string?)list[j]["content"] ?? "";
                }

                if (expected.Count > 0)
                {
                    problems.Add($"openai: calls {string.Join(", ", expected)} of message {i} have no result right after it");
                }

                i = j - 1;
            }
        }

        var tokens = Tokens(messages);
        if (tokens > facts.Budget)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"openai: the prompt has {tokens} tokens, over the budget of {facts.Budget}"));
        }

        // The user's messages, verbatim and in order.
        var texts = users.Select(u => u["content"] is JsonValue value ? value.GetValue<string>() : null).ToList();
        var at = 1;
        foreach (var expectedText in facts.UserMessages)
        {
            while (at < texts.Count && texts[at] != expectedText)
            {
                at++;
            }

            if (at++ >= texts.Count)
            {
                problems.Add("openai: a user message is missing, changed or out of order");
                break;
            }
        }

        // The last K exchanges in full (as capped when they joined), and every output shown or named.
        var allText = string.Join("\n", list.Select(m => m["content"] is JsonValue value ? value.GetValue<string>() : ""));
        var covered = CoveredRanges(allText);
        for (var e = 0; e < facts.Exchanges.Count; e++)
        {
            var exchange = facts.Exchanges[e];
            var recent = e >= facts.Exchanges.Count - facts.Keep;
            foreach (var id in exchange.CallIds)
            {
                var output = exchange.Outputs[id];
                var seq = exchange.ResultSeqs[id];
                var shown = shownOutputs.GetValueOrDefault(id);
                var whole = shown is not null && IsWholeOrCapped(shown, output);
                if (recent && !whole)
                {
                    problems.Add($"the output of {id}, in one of the last {facts.Keep} exchanges, is not shown in full");
                }

                if (!whole && seq is { } s && !(shown?.Contains($"#{s}:", StringComparison.Ordinal) ?? false) && !covered.Any(r => s >= r.From && s <= r.Through))
                {
                    problems.Add($"the output of {id} (event #{s}) is neither shown nor named by its event");
                }
            }
        }

        return problems;
    }

    /// <summary>The Anthropic Messages rules: alternating turns, tool_use answered first thing in the next user turn, thinking first, no empty blocks.</summary>
    public static List<string> CheckAnthropic(IReadOnlyList<ChatMessage> prompt)
    {
        var problems = new List<string>();
        var (system, messages, systems) = PromptShapes.Anthropic(prompt);
        if (system is null || systems != 1 || prompt[0].Role != ChatRole.System)
        {
            problems.Add("anthropic: the prompt needs exactly one system prompt, first");
        }

        var turns = messages.OfType<JsonObject>().ToList();
        if (turns.Count == 0 || (string?)turns[0]["role"] != "user")
        {
            problems.Add("anthropic: the first turn is not the user's");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < turns.Count; i++)
        {
            var role = (string?)turns[i]["role"];
            var blocks = (turns[i]["content"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            if (i > 0 && (string?)turns[i - 1]["role"] == role)
            {
                problems.Add($"anthropic: turns {i - 1} and {i} are both the {role}'s");
            }

            if (blocks.Count == 0)
            {
                problems.Add($"anthropic: turn {i} is empty");
            }

            foreach (var block in blocks)
            {
                var type = (string?)block["type"];
                if ((type == "text" && string.IsNullOrEmpty((string?)block["text"])) || (type == "thinking" && string.IsNullOrEmpty((string?)block["thinking"])))
                {
                    problems.Add($"anthropic: turn {i} has an empty {type} block");
                }
            }

            var toolUses = blocks.Where(b => (string?)b["type"] == "tool_use").Select(b => (string?)b["id"] ?? "").ToList();
            if (role == "assistant")
            {
                var firstOther = blocks.FindIndex(b => (string?)b["type"] != "thinking");
                if (firstOther >= 0 && blocks.Skip(firstOther).Any(b => (string?)b["type"] == "thinking"))
                {
                    problems.Add($"anthropic: turn {i} has thinking after other content");
                }

                if (blocks.Any(b => (string?)b["type"] == "tool_result"))
                {
                    problems.Add($"anthropic: assistant turn {i} holds a tool_result");
                }

                foreach (var id in toolUses)
                {
                    if (!ids.Add(id))
                    {
                        problems.Add($"anthropic: tool_use id '{id}' is repeated");
                    }
                }

                if (toolUses.Count > 0)
                {
                    var next = i + 1 < turns.Count ? (turns[i + 1]["content"] as JsonArray ?? []).OfType<JsonObject>().ToList() : [];
                    var leading = next.TakeWhile(b => (string?)b["type"] == "tool_result").Select(b => (string?)b["tool_use_id"] ?? "").ToList();
                    if (i + 1 >= turns.Count || leading.Count != toolUses.Count || !leading.ToHashSet().SetEquals(toolUses))
                    {
                        problems.Add($"anthropic: the tool_use blocks of turn {i} are not answered by tool_result blocks opening turn {i + 1}");
                    }

                    if (next.Skip(leading.Count).Any(b => (string?)b["type"] == "tool_result"))
                    {
                        problems.Add($"anthropic: turn {i + 1} has a tool_result after other content");
                    }
                }
            }
            else
            {
                var results = blocks.Where(b => (string?)b["type"] == "tool_result").Select(b => (string?)b["tool_use_id"] ?? "").ToList();
                var previousUses = i > 0 ? (turns[i - 1]["content"] as JsonArray ?? []).OfType<JsonObject>()
                    .Where(b => (string?)b["type"] == "tool_use").Select(b => (string?)b["id"] ?? "").ToHashSet() : [];
                if (results.Any(r => !previousUses.Contains(r)))
                {
                    problems.Add($"anthropic: turn {i} answers a tool_use the turn before it does not hold");
                }
            }
        }

        return problems;
    }

    /// <summary>The image cost the manager promises: the larger of OpenAI's 512-pixel tiles and Anthropic's pixels / 750.</summary>
    public static int ImageTokens(string? dataUrl)
    {
        var comma = dataUrl?.IndexOf(',', StringComparison.Ordinal) ?? -1;
        if (comma < 0)
        {
            return 1600;
        }

        var bytes = Convert.FromBase64String(dataUrl![(comma + 1)..]);
        if (bytes.Length < 24 || bytes[1] != (byte)'P')
        {
            return 1600;
        }

        var width = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16));
        var height = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
        double w = width, h = height;
        var fit = Math.Min(1.0, 2048.0 / Math.Max(w, h));
        (w, h) = (w * fit, h * fit);
        var shortSide = Math.Min(1.0, 768.0 / Math.Min(w, h));
        (w, h) = (w * shortSide, h * shortSide);
        var tiles = 85 + (170 * (int)(Math.Ceiling(w / 512) * Math.Ceiling(h / 512)));
        var scale = Math.Min(1.0, 1568.0 / Math.Max(width, height));
        return Math.Max(tiles, (int)Math.Ceiling(width * scale * height * scale / 750));
    }

    /// <summary>True when <paramref name="shown"/> is <paramref name="output"/>, or its head and tail around a note that the middle was left out.</summary>
    public static bool IsWholeOrCapped(string shown, string output)
    {
        if (shown == output || (shown.StartsWith(output, StringComparison.Ordinal) && shown.Contains("not kept across a restart", StringComparison.Ordinal)))
        {
            return true;
        }

        var note = shown.IndexOf("[... ", StringComparison.Ordinal);
        var noteEnd = shown.IndexOf(" ...]\n", note < 0 ? 0 : note, StringComparison.Ordinal);
        if (note < 0 || noteEnd < 0 || !shown.Contains("left out to fit the context", StringComparison.Ordinal))
        {
            return false;
        }

        var head = shown[..note].TrimEnd('\n');
        var tail = shown[(noteEnd + 6)..];
        return output.StartsWith(head, StringComparison.Ordinal) && output.EndsWith(tail, StringComparison.Ordinal) && head.Length + tail.Length < output.Length;
    }

    private static List<(long From, long Through)> CoveredRanges(string text) =>
        [.. Range().Matches(text).Select(m => (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))];

    [GeneratedRegex(@"[Ee]vents #(\d+) to #(\d+)")]
    private static partial Regex Range();
}
