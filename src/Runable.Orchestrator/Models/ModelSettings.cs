using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Runable.Orchestrator.Models;

/// <summary>
/// The model providers, the default model, and what is known of each model. Read from the configuration section
/// <c>Models</c>; a value not set there is taken from the conventional environment variable (<c>RUNABLE_MODEL</c>,
/// <c>OPENAI_API_KEY</c>, <c>OPENAI_BASE_URL</c>, <c>ANTHROPIC_API_KEY</c>, <c>ANTHROPIC_BASE_URL</c>, <c>OLLAMA_HOST</c>).
/// </summary>
public sealed record ModelSettings
{
    private static readonly Regex s_portSuffix = new(@":\d+$", RegexOptions.CultureInvariant);

    /// <summary>The configuration section read by <see cref="Load"/>.</summary>
    public const string SectionName = "Models";

    /// <summary>The model used when a caller names none (<c>RUNABLE_MODEL</c>).</summary>
    public string? DefaultModel { get; init; }

    /// <summary>The OpenAI-compatible endpoint (<c>OPENAI_API_KEY</c>, <c>OPENAI_BASE_URL</c>).</summary>
    public ModelEndpointSettings OpenAI { get; init; } = new();

    /// <summary>Anthropic (<c>ANTHROPIC_API_KEY</c>, <c>ANTHROPIC_BASE_URL</c>).</summary>
    public ModelEndpointSettings Anthropic { get; init; } = new();

    /// <summary>Ollama's native API (<c>OLLAMA_HOST</c>); it takes no key.</summary>
    public ModelEndpointSettings Ollama { get; init; } = new();

    /// <summary>Context windows, output limits and prices of models, by spec.</summary>
    public IReadOnlyList<ModelEntry> Catalog { get; init; } = [];

    /// <summary>How failed calls are retried.</summary>
    public ModelRetryOptions Retry { get; init; } = new();

    /// <summary>How long one HTTP request to a provider may take, a streamed reply included.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Reads the <c>Models</c> section of <paramref name="configuration"/> and fills what it leaves unset from the
    /// environment (<paramref name="environment"/>, the process environment by default); validates the result.
    /// </summary>
    /// <exception cref="ModelConfigurationException">A setting is invalid; the message names it.</exception>
    public static ModelSettings Load(IConfiguration? configuration = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var section = configuration?.GetSection(SectionName);
        ModelSettings bound;
        try
        {
            bound = section?.Get<ModelSettings>() ?? new ModelSettings();
        }
        catch (InvalidOperationException e)
        {
            throw new ModelConfigurationException($"The '{SectionName}' configuration section is invalid: {e.Message}");
        }

        var settings = bound with
        {
            DefaultModel = First(bound.DefaultModel, environment("RUNABLE_MODEL")),
            OpenAI = Fill(bound.OpenAI, environment("OPENAI_API_KEY"), environment("OPENAI_BASE_URL"), "OPENAI_BASE_URL"),
            Anthropic = Fill(bound.Anthropic, environment("ANTHROPIC_API_KEY"), environment("ANTHROPIC_BASE_URL"), "ANTHROPIC_BASE_URL"),
            Ollama = bound.Ollama.BaseUrl is not null || string.IsNullOrWhiteSpace(environment("OLLAMA_HOST"))
                ? bound.Ollama
                : bound.Ollama with { BaseUrl = OllamaHost(environment("OLLAMA_HOST")!) },
        };
        settings.Validate();
        return settings;
    }

    /// <summary>Turns an <c>OLLAMA_HOST</c> value (<c>host</c>, <c>host:port</c> or a URL) into the URL of its API.</summary>
    /// <exception cref="ModelConfigurationException">The value is not a host or URL.</exception>
    public static Uri OllamaHost(string value)
    {
        var text = value.Trim();
        var hasScheme = text.Contains("://", StringComparison.Ordinal);
        var withScheme = hasScheme ? text : "http://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ModelConfigurationException($"OLLAMA_HOST '{value}' is not a host, host:port or http(s) URL.");
        }

        // Ollama's own client reads a bare host without a port as its default port, not as port 80.
        var explicitPort = hasScheme || s_portSuffix.IsMatch(text.TrimEnd('/'));
        return explicitPort ? uri : new UriBuilder(uri) { Port = 11434 }.Uri;
    }

    /// <summary>Checks every setting, so a bad one stops start-up with a message naming it.</summary>
    /// <exception cref="ModelConfigurationException">A setting is invalid.</exception>
    public void Validate()
    {
        if (!string.IsNullOrWhiteSpace(DefaultModel) && !ModelSpec.TryParse(DefaultModel, out _, out var error))
        {
            throw new ModelConfigurationException($"RUNABLE_MODEL (Models:DefaultModel) is invalid: {error}");
        }

        for (var i = 0; i < Catalog.Count; i++)
        {
            var entry = Catalog[i];
            var at = $"Models:Catalog:{i}";
            if (!ModelSpec.TryParse(entry.Model, out _, out var entryError))
            {
                throw new ModelConfigurationException($"{at}:Model is invalid: {entryError}");
            }

            if (entry.InputUsdPerMillion < 0 || entry.OutputUsdPerMillion < 0 || entry.CachedInputUsdPerMillion < 0)
            {
                throw new ModelConfigurationException($"{at} ('{entry.Model}') has a negative price.");
            }

            if ((entry.InputUsdPerMillion is null) != (entry.OutputUsdPerMillion is null))
            {
                throw new ModelConfigurationException(
                    $"{at} ('{entry.Model}') needs both InputUsdPerMillion and OutputUsdPerMillion, or neither.");
            }

            if (entry.ContextWindow <= 0 || entry.MaxOutputTokens <= 0)
            {
                throw new ModelConfigurationException($"{at} ('{entry.Model}') needs a positive ContextWindow and MaxOutputTokens.");
            }
        }

        if (Retry.MaxAttempts < 1)
        {
            throw new ModelConfigurationException("Models:Retry:MaxAttempts must be at least 1.");
        }

        if (Retry.BaseDelay < TimeSpan.Zero || Retry.MaxDelay < TimeSpan.Zero || Retry.MaxRetryAfter < TimeSpan.Zero)
        {
            throw new ModelConfigurationException("Models:Retry delays must not be negative.");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new ModelConfigurationException("Models:RequestTimeout must be positive.");
        }
    }

    private static string? First(string? configured, string? fromEnvironment) =>
        !string.IsNullOrWhiteSpace(configured) ? configured.Trim()
        : !string.IsNullOrWhiteSpace(fromEnvironment) ? fromEnvironment.Trim()
        : null;

    private static ModelEndpointSettings Fill(ModelEndpointSettings configured, string? key, string? baseUrl, string variable)
    {
        var url = configured.BaseUrl;
        if (url is null && !string.IsNullOrWhiteSpace(baseUrl))
        {
            if (!Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out url) || url.Scheme is not ("http" or "https"))
            {
                throw new ModelConfigurationException($"{variable} '{baseUrl}' is not an http(s) URL.");
            }
        }

        return configured with { ApiKey = First(configured.ApiKey, key), BaseUrl = url };
    }
}
