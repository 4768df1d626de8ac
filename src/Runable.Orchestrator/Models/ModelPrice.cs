using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Models;

/// <summary>A model's price in USD per million tokens.</summary>
public sealed record ModelPrice(decimal InputUsdPerMillion, decimal OutputUsdPerMillion, decimal? CachedInputUsdPerMillion = null)
{
    private const decimal Million = 1_000_000m;

    /// <summary>
    /// The cost of the tokens in <paramref name="usage"/>. Cached input tokens are part of the input count (as OpenAI and
    /// the Anthropic adapter report them) and are charged at the cached price; reasoning tokens are part of the output count.
    /// </summary>
    public decimal CostUsd(UsageDetails usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        var input = Math.Max(0, usage.InputTokenCount ?? 0);
        var cached = Math.Clamp(usage.CachedInputTokenCount ?? 0, 0, input);
        var output = Math.Max(0, usage.OutputTokenCount ?? 0);
        return ((input - cached) * InputUsdPerMillion
                + cached * (CachedInputUsdPerMillion ?? InputUsdPerMillion)
                + output * OutputUsdPerMillion) / Million;
    }
}
