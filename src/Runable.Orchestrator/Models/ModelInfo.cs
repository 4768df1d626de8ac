using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Models;

/// <summary>A model and what is known of it: its context window and price when configured.</summary>
public sealed record ModelInfo(ModelSpec Spec, int? ContextWindow = null, int? MaxOutputTokens = null, ModelPrice? Price = null)
{
    /// <summary>The cost of <paramref name="usage"/> in USD, or null when the model has no configured price or there is no usage.</summary>
    public decimal? CostUsd(UsageDetails? usage) => usage is null || Price is null ? null : Price.CostUsd(usage);
}
