using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Tests.Context;

/// <summary>
/// Turns a prompt into the two wire shapes providers take, written here from the providers' documented formats (not
/// through the clients the product uses): OpenAI Chat Completions <c>messages</c>, and Anthropic Messages' <c>system</c>
/// plus <c>messages</c> with consecutive turns of one role merged, as that API does.
/// </summary>
public static class PromptShapes
{
    /// <summary>The OpenAI Chat <c>messages</c> array.</summary>
    public static JsonArray OpenAI(IReadOnlyList<ChatMessage> prompt)
    {
        var messages = new JsonArray();
        foreach (var message in prompt)
        {
            if (message.Role == ChatRole.System)
            {
                messages.Add(new JsonObject { ["role"] = "system", ["content"] = Text(message) });
            }
            else if (message.Role == ChatRole.User)
            {
                var parts = message.Contents.Where(c => c is TextContent or DataContent).ToList();
                messages.Add(new JsonObject
                {
                    ["role"] = "user",
                    ["content"] = parts.All(p => p is TextContent)
                        ? Text(message)
                        : new JsonArray([.. parts.Select(p => p is TextContent t
                            ? (JsonNode)new JsonObject { ["type"] = "text", ["text"] = t.Text }
                            : new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = ((DataContent)p).Uri } })]),
                });
            }
            else if (message.Role == ChatRole.Assistant)
            {
                var calls = message.Contents.OfType<FunctionCallContent>().ToList();
                var text = string.Concat(message.Contents.OfType<TextContent>().Select(t => t.Text));
                var node = new JsonObject { ["role"] = "assistant", ["content"] = text.Length == 0 ? null : text };
                if (calls.Count > 0)
                {
                    node["tool_calls"] = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
                    {
                        ["id"] = c.CallId,
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = ArgumentsJson(c) },
                    })]);
                }

                messages.Add(node);
            }
            else if (message.Role == ChatRole.Tool)
            {
                foreach (var content in message.Contents)
                {
                    messages.Add(content is FunctionResultContent r
                        ? new JsonObject { ["role"] = "tool", ["tool_call_id"] = r.CallId, ["content"] = ResultText(r) }
                        : new JsonObject { ["role"] = "tool", ["tool_call_id"] = null, ["content"] = "(not a result)" });
                }
            }
            else
            {
                messages.Add(new JsonObject { ["role"] = message.Role.Value, ["content"] = Text(message) });
            }
        }

        return messages;
    }

    /// <summary>Anthropic's <c>system</c> text (null when the prompt has none first) and <c>messages</c> array.</summary>
    public static (string? System, JsonArray Messages, int SystemMessages) Anthropic(IReadOnlyList<ChatMessage> prompt)
    {
        string? system = null;
        var systems = 0;
        var turns = new List<(string Role, JsonArray Content)>();
        foreach (var message in prompt)
        {
            if (message.Role == ChatRole.System)
            {
                systems++;
                system ??= Text(message);
                continue;
            }

            var role = message.Role == ChatRole.Assistant ? "assistant" : "user";
            var blocks = new JsonArray();
            foreach (var content in message.Contents)
            {
                JsonNode? block = content switch
                {
                    TextReasoningContent r => new JsonObject { ["type"] = "thinking", ["thinking"] = r.Text },
                    TextContent t => new JsonObject { ["type"] = "text", ["text"] = t.Text },
                    FunctionCallContent c => new JsonObject { ["type"] = "tool_use", ["id"] = c.CallId, ["name"] = c.Name, ["input"] = JsonNode.Parse(ArgumentsJson(c)) },
                    FunctionResultContent r => new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = r.CallId, ["content"] = ResultText(r) },
                    DataContent d => new JsonObject
                    {
                        ["type"] = "image",
                        ["source"] = new JsonObject { ["type"] = "base64", ["media_type"] = d.MediaType, ["data"] = Convert.ToBase64String(d.Data.Span) },
                    },
                    _ => null,
                };
                if (block is not null)
                {
                    blocks.Add(block);
                }
            }

            if (turns.Count > 0 && turns[^1].Role == role)
            {
                foreach (var block in blocks.ToList())
                {
                    blocks.Remove(block);
                    turns[^1].Content.Add(block);
                }
            }
            else
            {
                turns.Add((role, blocks));
            }
        }

        return (system, new JsonArray([.. turns.Select(t => (JsonNode)new JsonObject { ["role"] = t.Role, ["content"] = t.Content })]), systems);
    }

    /// <summary>Reads an OpenAI Chat <c>messages</c> array (as a request carried it) back into messages, results of one turn together.</summary>
    public static List<ChatMessage> FromOpenAI(JsonArray messages)
    {
        var list = new List<ChatMessage>();
        foreach (var message in messages.OfType<JsonObject>())
        {
            var role = (string?)message["role"];
            var content = message["content"];
            var text = content is JsonValue value ? value.GetValue<string>() : null;
            switch (role)
            {
                case "system" or "developer":
                    list.Add(new ChatMessage(ChatRole.System, text ?? string.Concat((content as JsonArray ?? []).Select(p => (string?)p?["text"]))));
                    break;
                case "user":
                    list.Add(new ChatMessage(ChatRole.User, text is not null ? [new TextContent(text)] : [.. (content as JsonArray ?? []).OfType<JsonObject>()
                        .Select(p => (string?)p["type"] == "text" ? (AIContent)new TextContent((string?)p["text"]) : new DataContent((string)p["image_url"]!["url"]!))]));
                    break;
                case "assistant":
                {
                    var contents = new List<AIContent>();
                    var said = text ?? string.Concat((content as JsonArray ?? []).Select(p => (string?)p?["text"]));
                    if (said.Length > 0)
                    {
                        contents.Add(new TextContent(said));
                    }

                    foreach (var call in (message["tool_calls"] as JsonArray ?? []).OfType<JsonObject>())
                    {
                        var arguments = JsonSerializer.Deserialize<Dictionary<string, object?>>((string?)call["function"]?["arguments"] ?? "{}");
                        contents.Add(new FunctionCallContent((string)call["id"]!, (string)call["function"]!["name"]!, arguments));
                    }

                    list.Add(new ChatMessage(ChatRole.Assistant, contents));
                    break;
                }

                case "tool":
                    var result = new FunctionResultContent((string?)message["tool_call_id"] ?? "", text ?? message["content"]?.ToJsonString());
                    if (list.Count > 0 && list[^1].Role == ChatRole.Tool)
                    {
                        list[^1].Contents.Add(result);
                    }
                    else
                    {
                        list.Add(new ChatMessage(ChatRole.Tool, [result]));
                    }

                    break;
            }
        }

        return list;
    }

    public static string Text(ChatMessage message) => string.Concat(message.Contents.OfType<TextContent>().Select(t => t.Text));

    public static string ArgumentsJson(FunctionCallContent call) =>
        call.Arguments is null || call.Arguments.Count == 0 ? "{}" : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions);

    public static string ResultText(FunctionResultContent result) => result.Result switch
    {
        null => "",
        string s => s,
        var other => JsonSerializer.Serialize(other, AIJsonUtilities.DefaultOptions),
    };
}
