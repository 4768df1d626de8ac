using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Context;

/// <summary>Recognises a provider's "context too long" answer, which calls for a smaller prompt rather than a retry.</summary>
public static class ContextOverflow
{
    // What OpenAI and compatible servers (vLLM, llama.cpp, LM Studio), Anthropic and Ollama say when a prompt is over the window.
    private static readonly string[] s_phrases =
    [
        "context_length_exceeded", "maximum context length", "context length", "context window", "prompt is too long",
        "too many tokens", "input is too long", "reduce the length", "exceeds the context", "prompt too long", "input too long",
        "request too large", "string_above_max_length",
    ];

    /// <summary>True when <paramref name="exception"/> is a provider refusing the prompt as too long; <paramref name="reason"/> then says so briefly.</summary>
    public static bool IsContextTooLong(Exception exception, CancellationToken cancellationToken, out string reason)
    {
        ArgumentNullException.ThrowIfNull(exception);
        reason = "";
        var failure = ModelCallFailure.Classify(exception, cancellationToken, TimeProvider.System);
        if (failure.IsTransient || cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            var message = e.Message;
            if (failure.Status == 413 || s_phrases.Any(p => message.Contains(p, StringComparison.OrdinalIgnoreCase)))
            {
                reason = $"{failure.Reason}: {(message.Length > 200 ? message[..200] + "…" : message)}";
                return true;
            }
        }

        return false;
    }
}
