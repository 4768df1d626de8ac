using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OllamaSharp;
using OpenAI;
using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Context.Recall;

/// <summary>
/// The embedding model recall ranks by, besides words, when one is configured: <c>Recall:EmbeddingModel</c> or
/// <c>RUNABLE_EMBEDDING_MODEL</c>, a spec like a chat model's (<c>openai:text-embedding-3-small</c>,
/// <c>ollama:nomic-embed-text</c>), reached through the same endpoints and keys as the chat models (<see cref="ModelSettings"/>).
/// </summary>
public static class RecallEmbeddings
{
    /// <summary>The configuration key of the embedding model.</summary>
    public const string SettingName = "Recall:EmbeddingModel";

    /// <summary>The environment variable read when the configuration does not set it.</summary>
    public const string VariableName = "RUNABLE_EMBEDDING_MODEL";

    /// <summary>The embedding model's spec from <paramref name="configuration"/> or the environment; null when none is set.</summary>
    public static string? Configured(IConfiguration? configuration, Func<string, string?>? environment = null)
    {
        var value = configuration?[SettingName];
        value = string.IsNullOrWhiteSpace(value) ? (environment ?? Environment.GetEnvironmentVariable)(VariableName) : value;
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    /// <summary>A generator for <paramref name="spec"/> over the endpoints of <paramref name="models"/>.</summary>
    /// <exception cref="ModelConfigurationException">The spec is invalid, or names a provider without embeddings or an endpoint that is not configured.</exception>
    public static IEmbeddingGenerator<string, Embedding<float>> Create(ModelSettings models, string spec)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(spec);
        ModelSpec parsed;
        try
        {
            parsed = ModelSpec.Parse(spec);
        }
        catch (ModelConfigurationException e)
        {
            throw new ModelConfigurationException($"{VariableName} ({SettingName}) is invalid: {e.Message}");
        }

        switch (parsed.Provider)
        {
            case ModelProvider.OpenAI:
                if (!models.OpenAI.IsSet)
                {
                    throw new ModelConfigurationException(
                        $"The embedding model '{spec}' uses the OpenAI-compatible endpoint, which is not configured: set OPENAI_API_KEY " +
                        "(Models:OpenAI:ApiKey) for api.openai.com, or OPENAI_BASE_URL (Models:OpenAI:BaseUrl) for another server.");
                }

                var options = new OpenAIClientOptions { RetryPolicy = new ClientRetryPolicy(maxRetries: 2), NetworkTimeout = models.RequestTimeout };
                if (models.OpenAI.BaseUrl is { } url)
                {
                    options.Endpoint = url;
                }

                var key = string.IsNullOrEmpty(models.OpenAI.ApiKey) ? "no-key" : models.OpenAI.ApiKey;
                return new OpenAIClient(new ApiKeyCredential(key), options).GetEmbeddingClient(parsed.Name).AsIEmbeddingGenerator();

            case ModelProvider.Ollama:
                var http = new HttpClient { BaseAddress = models.Ollama.BaseUrl ?? new Uri("http://127.0.0.1:11434"), Timeout = models.RequestTimeout };
                return new OllamaApiClient(http, parsed.Name);

            default:
                throw new ModelConfigurationException(
                    $"The embedding model '{spec}' names {parsed.Provider}, which serves no embeddings: use an openai: or ollama: model, or unset {VariableName}.");
        }
    }
}
