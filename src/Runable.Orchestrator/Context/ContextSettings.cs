using Runable.Orchestrator.Jobs;

namespace Runable.Orchestrator.Context;

/// <summary>
/// How one job's prompt is kept within budget: the model's window and the share kept for the answer, an optional
/// cap on the prompt, the exchanges always shown in full, and the fractions of the budget at which older outputs are
/// masked and older work is summarized. <see cref="For"/> gives the defaults for a model's window.
/// </summary>
public sealed record ContextSettings
{
    /// <summary>The model's context window, in tokens.</summary>
    public long WindowTokens { get; init; } = 128_000;

    /// <summary>Tokens of the window kept free for the model's answer.</summary>
    public long OutputReserveTokens { get; init; } = 8_192;

    /// <summary>A cap on the whole prompt (messages and tool definitions), below what the window allows; null for none.</summary>
    public long? MaxPromptTokens { get; init; }

    /// <summary>The most recent tool exchanges always shown in full (K).</summary>
    public int KeepExchanges { get; init; } = 3;

    /// <summary>When the prompt passes this fraction of the budget, older outputs are masked.</summary>
    public double MaskAt { get; init; } = 0.6;

    /// <summary>Masking goes on, oldest first, until the prompt is at most this fraction of the budget (one batch, one cache break).</summary>
    public double MaskTo { get; init; } = 0.45;

    /// <summary>The least a mask batch frees, as a fraction of the budget (each batch breaks the provider's prompt cache once).</summary>
    public double MaskBatchShare { get; init; } = 0.05;

    /// <summary>When the prompt (after masking) passes this fraction of the budget, the oldest work is summarized.</summary>
    public double SummarizeAt { get; init; } = 0.85;

    /// <summary>A summary covers enough of the oldest work to bring the prompt to at most this fraction of the budget.</summary>
    public double SummarizeTo { get; init; } = 0.5;

    /// <summary>The model that writes summaries (<c>provider:name</c>); null for the job's own model.</summary>
    public string? SummarizerModel { get; init; }

    /// <summary>The most tokens a summary may take.</summary>
    public int SummaryMaxTokens { get; init; } = 4_000;

    /// <summary>The most tokens of history the summarizer reads in one call; longer spans are summarized in rounds.</summary>
    public int SummarizerInputTokens { get; init; } = 48_000;

    /// <summary>The most tokens of one tool output when it joins the context; longer outputs keep their head and tail.</summary>
    public int MaxResultTokens { get; init; } = 8_000;

    /// <summary>The first estimate of provider tokens per counted token, until the provider reports usage.</summary>
    public double InitialCalibration { get; init; } = 1.0;

    /// <summary>Consecutive "context too long" answers after which the job stops instead of shrinking again.</summary>
    public int MaxOverflowShrinks { get; init; } = 3;

    /// <summary>
    /// The settings for a model with <paramref name="window"/> tokens: the answer's reserve is the model's output limit
    /// (or <paramref name="defaultReserve"/>) but at most a quarter of the window; K is 1 below 16k tokens, 2 below
    /// 64k, else 3; the job's <c>context</c> fields override each default. Models of providers whose tokenizer is not
    /// tiktoken's start with a 1.2 calibration, corrected by the first reported usage.
    /// </summary>
    public static ContextSettings For(long window, int? maxOutputTokens, int defaultReserve, JobContextRequest? request, bool tiktokenModel)
    {
        var reserve = request?.OutputReserveTokens ?? Math.Min(maxOutputTokens ?? defaultReserve, window / 4);
        var defaults = new ContextSettings();
        var budget = Math.Min(window - reserve, request?.MaxPromptTokens ?? long.MaxValue);
        return new ContextSettings
        {
            WindowTokens = window,
            OutputReserveTokens = reserve,
            MaxPromptTokens = request?.MaxPromptTokens,
            KeepExchanges = request?.KeepExchanges ?? (window < 16_000 ? 1 : window < 64_000 ? 2 : 3),
            MaskAt = request?.MaskAt ?? defaults.MaskAt,
            MaskTo = (request?.MaskAt ?? defaults.MaskAt) * 0.75,
            SummarizeAt = request?.SummarizeAt ?? defaults.SummarizeAt,
            SummarizeTo = Math.Min(defaults.SummarizeTo, (request?.SummarizeAt ?? defaults.SummarizeAt) * 0.6),
            SummarizerModel = request?.SummarizerModel,
            SummaryMaxTokens = (int)Math.Clamp(budget / 10, 256, defaults.SummaryMaxTokens),
            SummarizerInputTokens = (int)Math.Clamp(budget / 2, 2_000, defaults.SummarizerInputTokens),
            MaxResultTokens = (int)Math.Clamp(budget / 8, 128, defaults.MaxResultTokens),
            InitialCalibration = tiktokenModel ? 1.0 : 1.2,
        };
    }

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        if (WindowTokens < 1_000 || OutputReserveTokens < 0 || OutputReserveTokens >= WindowTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowTokens), "The window must be at least 1000 tokens and larger than the output reserve.");
        }

        if (KeepExchanges < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(KeepExchanges), "At least the last exchange is kept in full (keep_exchanges >= 1).");
        }

        if (!(MaskTo > 0 && MaskTo <= MaskAt && MaskAt < 1 && SummarizeTo > 0 && SummarizeTo < SummarizeAt && SummarizeAt < 1 && MaskAt <= SummarizeAt))
        {
            throw new ArgumentOutOfRangeException(nameof(MaskAt), "The thresholds must satisfy 0 < mask_to <= mask_at <= summarize_at < 1 and 0 < summarize_to < summarize_at.");
        }

        if (MaskBatchShare is < 0 or > 0.5 || InitialCalibration is < 0.25 or > 8 || MaxOverflowShrinks < 1 || SummaryMaxTokens < 64 || MaxResultTokens < 64 || SummarizerInputTokens < 1_000)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialCalibration), "MaskBatchShare, InitialCalibration, MaxOverflowShrinks, SummaryMaxTokens, MaxResultTokens or SummarizerInputTokens is out of range.");
        }
    }
}
