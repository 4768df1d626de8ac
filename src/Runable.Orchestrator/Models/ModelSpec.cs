using System.Diagnostics.CodeAnalysis;

namespace Runable.Orchestrator.Models;

/// <summary>
/// A model named as <c>provider:name</c> (<c>openai:gpt-4.1</c>, <c>anthropic:claude-sonnet-4-5</c>, <c>ollama:llama3.1</c>),
/// or as a bare name, which means the OpenAI-compatible endpoint.
/// </summary>
public sealed record ModelSpec(ModelProvider Provider, string Name)
{
    /// <summary>The prefixes accepted before the first colon, and the provider each names.</summary>
    public static IReadOnlyDictionary<string, ModelProvider> Prefixes { get; } =
        new Dictionary<string, ModelProvider>(StringComparer.OrdinalIgnoreCase)
        {
            ["openai"] = ModelProvider.OpenAI,
            ["anthropic"] = ModelProvider.Anthropic,
            ["ollama"] = ModelProvider.Ollama,
        };

    /// <summary>Parses a spec; throws <see cref="ModelConfigurationException"/> saying what is wrong and what a good spec looks like.</summary>
    public static ModelSpec Parse(string spec)
    {
        return TryParse(spec, out var parsed, out var error) ? parsed : throw new ModelConfigurationException(error);
    }

    /// <summary>Parses a spec; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? spec, [NotNullWhen(true)] out ModelSpec? parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = null;
        var text = spec?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = $"The model spec is empty. {Example}";
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            parsed = new ModelSpec(ModelProvider.OpenAI, text);
            error = null;
            return true;
        }

        var prefix = text[..colon];
        if (!Prefixes.TryGetValue(prefix, out var provider))
        {
            // Ollama tags (llama3.1:8b) have a colon too: a bare tagged name is the usual slip.
            error = $"The model spec '{text}' names an unknown provider '{prefix}'. {Example} " +
                    $"For an Ollama model with a tag, write 'ollama:{text}'.";
            return false;
        }

        var name = text[(colon + 1)..].Trim();
        if (name.Length == 0)
        {
            error = $"The model spec '{text}' has no model name after '{prefix}:'. {Example}";
            return false;
        }

        parsed = new ModelSpec(provider, name);
        error = null;
        return true;
    }

    /// <summary>The spec in its canonical <c>provider:name</c> form.</summary>
    public override string ToString() => $"{Provider.ToString().ToLowerInvariant()}:{Name}";

    private const string Example =
        "Write 'openai:gpt-4.1', 'anthropic:claude-sonnet-4-5', 'ollama:llama3.1', or a bare name for the OpenAI-compatible endpoint.";
}
