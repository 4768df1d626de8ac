namespace Runable.Web.Api;

/// <summary>When a new job stops: steps, tokens, cost and time.</summary>
public sealed record NewJobLimits
{
    public int? MaxSteps { get; init; }

    public long? MaxTokens { get; init; }

    public double? MaxCostUsd { get; init; }

    public double? TimeoutS { get; init; }
}
