namespace Runable.Orchestrator.Models;

/// <summary>Where one provider is reached, and the key it takes. The key never leaves the orchestrator: <see cref="ToString"/> hides it.</summary>
public sealed record ModelEndpointSettings
{
    /// <summary>The API key sent to the provider, if it needs one.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The endpoint; null means the provider's public one (Ollama: <c>http://127.0.0.1:11434</c>).</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>Whether a key or an endpoint was given, so the provider can be used.</summary>
    public bool IsSet => !string.IsNullOrEmpty(ApiKey) || BaseUrl is not null;

    /// <summary>The endpoint and whether a key is set, never the key itself.</summary>
    public override string ToString() =>
        $"{{ BaseUrl = {BaseUrl?.ToString() ?? "(default)"}, ApiKey = {(string.IsNullOrEmpty(ApiKey) ? "(none)" : "(set)")} }}";
}
