using System.Text;
using Runable.Orchestrator.Context;

namespace Runable.Orchestrator.Tests.Context;

/// <summary>
/// A summarizer for tests: writes the six sections from the transcript's first lines, deterministically; or fails the way
/// a model call can (throws, or answers nothing). Records what it was asked.
/// </summary>
public sealed class FakeSummarizer(FakeSummarizer.Behaviour behaviour = FakeSummarizer.Behaviour.Summarize) : IContextSummarizer
{
    public enum Behaviour { Summarize, Throw, Empty }

    public List<ContextSummaryRequest> Requests { get; } = [];

    public string Name => "fake:summarizer";

    public Task<string> SummarizeAsync(ContextSummaryRequest request, CancellationToken cancellationToken = default)
    {
        Requests.Add(request);
        if (behaviour == Behaviour.Throw)
        {
            throw new HttpRequestException("summarizer unavailable");
        }

        if (behaviour == Behaviour.Empty)
        {
            return Task.FromResult("  ");
        }

        var first = request.Transcript.Split('\n', 3);
        var text = new StringBuilder();
        foreach (var section in ChatSummarizer.Sections)
        {
            text.Append(section).Append("\n- ");
            text.Append(section == "Goal" ? "fix the ledger" : first[0].Length > 120 ? first[0][..120] : first[0]).Append('\n');
        }

        text.Append("Previous: ").Append(request.PreviousSummary is null ? "none" : "rolled up");
        return Task.FromResult(text.ToString());
    }
}
