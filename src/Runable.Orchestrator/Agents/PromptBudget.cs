using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Agents;

/// <summary>
/// The first context policy, until the context manager replaces it: the prompt is the whole conversation while it
/// fits; when it does not, the oldest tool results (outside the last few exchanges) are replaced, one by one, by a
/// line saying what was there. Messages are never removed or reordered, so every tool call keeps its result right
/// after it, and the system prompt, the task and every user message stay as they were. Tokens are estimated at four
/// characters each (an image at a thousand).
/// </summary>
public static class PromptBudget
{
    /// <summary>The exchanges at the end whose results are always kept whole.</summary>
    public const int KeptExchanges = 3;

    /// <summary>The estimated tokens of <paramref name="messages"/>.</summary>
    public static long Estimate(IEnumerable<ChatMessage> messages) => messages.Sum(Estimate);

    public static long Estimate(ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        long tokens = 4;
        foreach (var content in message.Contents)
        {
            tokens += content switch
            {
                TextContent text => text.Text.Length / 4,
                FunctionCallContent call => (call.Name.Length + (call.Arguments?.Sum(a => a.Key.Length + (a.Value?.ToString()?.Length ?? 0)) ?? 0)) / 4 + 8,
                FunctionResultContent result => (result.Result?.ToString()?.Length ?? 0) / 4 + 8,
                DataContent => 1000,
                _ => 16,
            };
        }

        return tokens;
    }

    /// <summary>
    /// The messages to send: <paramref name="messages"/> itself when it fits <paramref name="budget"/>, otherwise a copy
    /// whose oldest tool results are elided until it fits (or nothing more may be elided).
    /// </summary>
    public static IList<ChatMessage> Fit(IList<ChatMessage> messages, long budget)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var total = Estimate(messages);
        if (total <= budget)
        {
            return messages;
        }

        var fitted = messages.ToList();
        var protectedFrom = StartOfLastExchanges(fitted);
        for (var i = 0; i < protectedFrom && total > budget; i++)
        {
            if (fitted[i].Role != ChatRole.Tool)
            {
                continue;
            }

            var before = Estimate(fitted[i]);
            var contents = fitted[i].Contents.Select(c => c is FunctionResultContent r && r.Result is not null
                ? new FunctionResultContent(r.CallId, $"[the output of this call was elided to fit the context window ({r.Result.ToString()?.Length ?? 0} characters); run it again if you need it]")
                : c).ToList();
            fitted[i] = new ChatMessage(ChatRole.Tool, contents);
            total -= before - Estimate(fitted[i]);
        }

        return fitted;
    }

    /// <summary>The index of the first message of the last <see cref="KeptExchanges"/> assistant turns.</summary>
    private static int StartOfLastExchanges(List<ChatMessage> messages)
    {
        var seen = 0;
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i].Role == ChatRole.Assistant && ++seen == KeptExchanges)
            {
                return i;
            }
        }

        return 0;
    }
}
