using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Context;

/// <summary>A prompt in the OpenAI Chat <c>messages</c> shape, the one the seed-compatible context routes answer with.</summary>
public static class ContextWire
{
    /// <summary>The messages as OpenAI Chat messages: one per tool result, images as data URLs, reasoning left out.</summary>
    public static JsonArray ToOpenAI(IEnumerable<ChatMessage> prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var messages = new JsonArray();
        foreach (var message in prompt)
        {
            var text = string.Concat(message.Contents.OfType<TextContent>().Select(t => t.Text));
            if (message.Role == ChatRole.Tool)
            {
                foreach (var result in message.Contents.OfType<FunctionResultContent>())
                {
                    messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = result.CallId, ["content"] = TokenCounter.ResultText(result.Result) });
                }
            }
            else if (message.Role == ChatRole.Assistant)
            {
                var node = new JsonObject { ["role"] = "assistant", ["content"] = text.Length == 0 ? null : text };
                var calls = message.Contents.OfType<FunctionCallContent>().ToList();
                if (calls.Count > 0)
                {
                    node["tool_calls"] = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
                    {
                        ["id"] = c.CallId, ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = TokenCounter.ArgumentsJson(c.Arguments) },
                    })]);
                }

                messages.Add(node);
            }
            else if (message.Contents.Any(c => c is DataContent))
            {
                messages.Add(new JsonObject
                {
                    ["role"] = message.Role.Value,
                    ["content"] = new JsonArray([.. message.Contents.Select(c => c switch
                    {
                        DataContent d => (JsonNode)new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = d.Uri } },
                        TextContent t => new JsonObject { ["type"] = "text", ["text"] = t.Text },
                        _ => null,
                    }).Where(n => n is not null)]),
                });
            }
            else
            {
                messages.Add(new JsonObject { ["role"] = message.Role.Value, ["content"] = text });
            }
        }

        return messages;
    }
}
