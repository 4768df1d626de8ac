namespace Runable.Orchestrator.Context;

/// <summary>
/// One decision of the context manager, logged as a <c>context</c> event before it takes effect, so that replaying a
/// job's events rebuilds its prompt exactly (and the UI can show what was pruned and why). <see cref="Action"/> is one of
/// <c>settings</c>, <c>mask</c>, <c>summarize</c>, <c>summarize_failed</c>, <c>drop</c>, <c>keep</c> or <c>overflow</c>.
/// </summary>
public sealed record ContextDecision
{
    /// <summary>The settings at the job's start (for the record; replay does not need them).</summary>
    public const string SettingsAction = "settings";

    /// <summary>Units shown as one line per output from now on (<see cref="Units"/>).</summary>
    public const string MaskAction = "mask";

    /// <summary>Units through <see cref="ThroughSeq"/> stand behind <see cref="Summary"/> from now on.</summary>
    public const string SummarizeAction = "summarize";

    /// <summary>The summarizer failed (<see cref="Reason"/>); after two in a row it is not asked again.</summary>
    public const string SummarizeFailedAction = "summarize_failed";

    /// <summary>Units through <see cref="ThroughSeq"/> not yet summarized are dropped (an emergency), named in a note.</summary>
    public const string DropAction = "drop";

    /// <summary>Fewer recent exchanges are kept in full from now on (<see cref="Keep"/>): nothing else was left to prune.</summary>
    public const string KeepAction = "keep";

    /// <summary>The provider answered "context too long": the calibration rises to <see cref="Calibration"/> and the prompt is rebuilt smaller.</summary>
    public const string OverflowAction = "overflow";

    public required string Action { get; init; }

    /// <summary>The units acted on, by the job event that opened each (<see cref="ContextUnit.Seq"/>).</summary>
    public IReadOnlyList<long>? Units { get; init; }

    /// <summary>The <c>tool_result</c> events whose outputs a mask replaced (what <c>read_event</c> reads back).</summary>
    public IReadOnlyList<long>? Outputs { get; init; }

    /// <summary>The last unit (by its opening event) a summary or a drop covers; every unpinned unit up to it is covered.</summary>
    public long? ThroughSeq { get; init; }

    /// <summary>The first and last job events the covered span holds.</summary>
    public long? FromEvent { get; init; }

    public long? ThroughEvent { get; init; }

    /// <summary>The summary text (with the identifiers it carries verbatim) that stands for everything covered.</summary>
    public string? Summary { get; init; }

    /// <summary>Who wrote the summary (the summarizer model).</summary>
    public string? Summarizer { get; init; }

    /// <summary>The recent exchanges kept in full after a <c>keep</c> decision.</summary>
    public int? Keep { get; init; }

    /// <summary>Provider tokens per counted token after an <c>overflow</c>.</summary>
    public double? Calibration { get; init; }

    /// <summary>Why (the provider's error, the summarizer's failure).</summary>
    public string? Reason { get; init; }

    /// <summary>The prompt's tokens (messages) before and after the decision, and the budget it was fitted to.</summary>
    public long TokensBefore { get; init; }

    public long TokensAfter { get; init; }

    public long Budget { get; init; }

    /// <summary>For <c>settings</c>: the window, answer reserve, prompt cap, tool definitions, K, thresholds and encoding.</summary>
    public IReadOnlyDictionary<string, object>? Settings { get; init; }
}
