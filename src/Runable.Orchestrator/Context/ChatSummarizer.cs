using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Context;

/// <summary>
/// Summarizes through a chat model (the job's own, or the one <c>context.summarizer_model</c> names): one call per
/// span, without tools, asking for the sections the agent needs to go on — goal, state of the code, tests, changes,
/// decisions, open questions — with every exact identifier copied verbatim. <paramref name="modelId"/> is the name the
/// provider knows; <paramref name="name"/> the spec recorded in the job's events.
/// </summary>
public sealed class ChatSummarizer(IChatClient client, string modelId, string? name = null) : IContextSummarizer
{
    /// <summary>The sections every summary has, in order.</summary>
    public static readonly IReadOnlyList<string> Sections = ["Goal", "State of the code", "Tests", "Changes", "Decisions", "Open questions"];

    /// <summary>The summarizer's instructions (the system message of its calls).</summary>
    public const string Instructions = """
        You condense part of a coding agent's working session so that the agent can continue its task without it.
        You read the previous summary (if any) and the events that followed it: the agent's messages, its tool calls and
        their outputs (long outputs are cut), and the user's messages. Write one updated summary that replaces both.
        Rules:
        - Use exactly these sections, each a heading line followed by short bullet points: Goal; State of the code;
          Tests; Changes; Decisions; Open questions. Write "none" under a section with nothing to say.
        - Copy exact identifiers verbatim, never paraphrased: file paths, function, class and test names, commands,
          error codes and messages, commit ids, versions, ports, URLs, configuration keys.
        - Keep what the agent still needs: what was tried and what it showed, what works, what failed and why, what is
          left to do. Drop chatter and repeated output.
        - Cite event numbers (#123) for details the agent may want to read again with read_event.
        Answer with the summary only.
        """;

    /// <inheritdoc />
    public string Name { get; } = name ?? modelId;

    /// <inheritdoc />
    public async Task<string> SummarizeAsync(ContextSummaryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ask = $"""
            Previous summary:
            {request.PreviousSummary ?? "(none: these are the session's first events)"}

            Events #{request.FromSeq} to #{request.ThroughSeq}:
            {request.Transcript}

            Write the updated summary in at most {request.MaxTokens} tokens, with the sections {string.Join(", ", Sections)}.
            """;
        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, ask)],
            new ChatOptions { MaxOutputTokens = request.MaxTokens, ModelId = modelId },
            cancellationToken).ConfigureAwait(false);
        return response.Text.Trim();
    }
}
