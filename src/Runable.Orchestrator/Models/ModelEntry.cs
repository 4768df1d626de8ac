namespace Runable.Orchestrator.Models;

/// <summary>What configuration says about one model: its context window, its output limit and its price.</summary>
public sealed record ModelEntry
{
    /// <summary>The model's spec (<c>openai:gpt-4.1</c>); matched against the spec asked for after both are parsed.</summary>
    public string Model { get; init; } = "";

    /// <summary>The context window in tokens, if known.</summary>
    public int? ContextWindow { get; init; }

    /// <summary>The most tokens one reply may have; Anthropic needs one, and this is what its client sends by default.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>USD per million input (prompt) tokens.</summary>
    public decimal? InputUsdPerMillion { get; init; }

    /// <summary>USD per million output (completion) tokens.</summary>
    public decimal? OutputUsdPerMillion { get; init; }

    /// <summary>USD per million input tokens read from the provider's prompt cache; the input price when not set.</summary>
    public decimal? CachedInputUsdPerMillion { get; init; }
}
