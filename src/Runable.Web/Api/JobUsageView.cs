namespace Runable.Web.Api;

/// <summary>What a job has used so far: steps, tokens and cost.</summary>
public sealed record JobUsageView
{
    public int Steps { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public decimal CostUsd { get; init; }

    /// <summary>Input and output tokens together.</summary>
    public long Tokens => InputTokens + OutputTokens;
}
