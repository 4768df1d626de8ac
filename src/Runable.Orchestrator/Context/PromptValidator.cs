using System.Globalization;
using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Context;

/// <summary>
/// The check made before every model call, failing closed: a prompt that breaks an invariant is not sent. Every tool
/// result follows the assistant message holding its call, with nothing in between; every call has exactly one result;
/// reasoning stays in its assistant message, before its calls; the system prompt, the task and every user message are
/// there verbatim and in order; the last exchanges are shown in full; the prompt is within budget.
/// </summary>
public static class PromptValidator
{
    /// <summary>Throws <see cref="ContextInvariantException"/> naming the first broken invariant of <paramref name="prompt"/>.</summary>
    public static void Validate(IReadOnlyList<ChatMessage> prompt, PromptExpectations expected)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(expected);
        if (prompt.Count < 2 || prompt[0].Role != ChatRole.System || !IsText(prompt[0], expected.SystemPrompt))
        {
            throw Broken("the prompt must open with the system prompt, verbatim");
        }

        if (prompt[1].Role != ChatRole.User || !IsText(prompt[1], expected.Task))
        {
            throw Broken("the task must be the first user message, verbatim");
        }

        if (expected.Tokens > expected.Budget)
        {
            throw Broken(string.Create(CultureInfo.InvariantCulture, $"the prompt has {expected.Tokens} tokens, over its budget of {expected.Budget}"));
        }

        var calls = new HashSet<string>(StringComparer.Ordinal);
        var pending = new HashSet<string>(StringComparer.Ordinal);
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        var user = 0;
        for (var i = 1; i < prompt.Count; i++)
        {
            var message = prompt[i];
            if (message.Contents.Count == 0)
            {
                throw Broken($"message {i} ({message.Role}) is empty");
            }

            if (pending.Count > 0 && message.Role != ChatRole.Tool)
            {
                throw Broken($"message {i} ({message.Role}) comes between the call {pending.First()} and its result");
            }

            if (message.Role == ChatRole.Assistant)
            {
                var sawCall = false;
                var sawOther = false;
                foreach (var content in message.Contents)
                {
                    switch (content)
                    {
                        case FunctionCallContent call:
                            if (string.IsNullOrEmpty(call.CallId) || !calls.Add(call.CallId))
                            {
                                throw Broken($"message {i} has a call with an empty or repeated id '{call.CallId}'");
                            }

                            pending.Add(call.CallId);
                            sawCall = true;
                            break;
                        case TextReasoningContent when sawCall:
                            throw Broken($"message {i} has reasoning after its tool calls");
                        case TextReasoningContent when prompt[i - 1].Role == ChatRole.Assistant:
                            throw Broken($"message {i} has reasoning but follows another assistant message, so it would not come first in their turn");
                        case TextReasoningContent:
                            break;
                        case FunctionResultContent:
                            throw Broken($"message {i} is the assistant's but holds a tool result");
                        default:
                            sawOther = true;
                            break;
                    }
                }

                if (!sawCall && !sawOther)
                {
                    throw Broken($"message {i} holds reasoning alone, detached from what it led to");
                }
            }
            else if (message.Role == ChatRole.Tool)
            {
                if (pending.Count == 0)
                {
                    throw Broken($"message {i} holds tool results that answer no call just before it");
                }

                foreach (var content in message.Contents)
                {
                    if (content is not FunctionResultContent result || !pending.Remove(result.CallId))
                    {
                        throw Broken($"message {i} holds something other than the one result of each pending call");
                    }

                    results[result.CallId] = TokenCounter.ResultText(result.Result);
                }
            }
            else if (message.Role == ChatRole.User)
            {
                if (message.Contents.Any(c => c is FunctionCallContent or FunctionResultContent))
                {
                    throw Broken($"message {i} is the user's but holds a tool call or result");
                }

                if (user < expected.UserMessages.Count && IsText(message, expected.UserMessages[user]))
                {
                    user++;
                }
            }
            else
            {
                throw Broken($"message {i} has the role {message.Role}: only the first message is the system's");
            }
        }

        if (pending.Count > 0)
        {
            throw Broken($"the call {pending.First()} has no result");
        }

        if (user < expected.UserMessages.Count)
        {
            throw Broken(string.Create(CultureInfo.InvariantCulture, $"the user's message {user + 1} of {expected.UserMessages.Count} is missing or changed"));
        }

        foreach (var exchange in expected.FullExchanges)
        {
            foreach (var (callId, text) in exchange)
            {
                if (!results.TryGetValue(callId, out var shown) || !string.Equals(shown, text, StringComparison.Ordinal))
                {
                    throw Broken($"the result of {callId}, in one of the last exchanges, must be shown in full");
                }
            }
        }
    }

    private static bool IsText(ChatMessage message, string text) =>
        message.Contents is [TextContent only] && string.Equals(only.Text, text, StringComparison.Ordinal);

    private static ContextInvariantException Broken(string what) =>
        new($"The prompt was not sent because {what}. This is a defect of the context manager; the job's events hold everything for a report.");
}
