using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Anthropic.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OllamaSharp;
using OpenAI;

namespace Runable.Orchestrator.Models;

/// <summary>
/// Turns a model spec (or none, for the default model) into a chat client for its provider, with retries, and the
/// model's metadata. Clients are made once per model and shared; the catalog owns and disposes them.
/// </summary>
public sealed partial class ModelCatalog : IDisposable
{
    // Local OpenAI-compatible servers need no key, but the OpenAI client insists on one.
    private const string NoKey = "no-key";

    private readonly ModelSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SocketsHttpHandler _handler = new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
    private readonly Dictionary<ModelSpec, ResolvedModel> _clients = [];
    private readonly List<IDisposable> _owned = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>A catalog over <paramref name="settings"/>; <paramref name="time"/> paces retries.</summary>
    /// <exception cref="ModelConfigurationException">A setting is invalid.</exception>
    public ModelCatalog(ModelSettings settings, TimeProvider? time = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _settings = settings;
        _time = time ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ModelCatalog>();
        DefaultModel = string.IsNullOrWhiteSpace(settings.DefaultModel) ? null : ModelSpec.Parse(settings.DefaultModel);
    }

    /// <summary>The model used when none is named, or null when none is configured.</summary>
    public ModelSpec? DefaultModel { get; }

    /// <summary>The spec <paramref name="model"/> names, or the default model when it is null or empty.</summary>
    /// <exception cref="ModelNotConfiguredException">No model is named and none is configured.</exception>
    /// <exception cref="ModelConfigurationException">The spec is invalid.</exception>
    public ModelSpec SpecOf(string? model = null) =>
        !string.IsNullOrWhiteSpace(model) ? ModelSpec.Parse(model) : DefaultModel ?? throw new ModelNotConfiguredException();

    /// <summary>What configuration says of a model: its context window, output limit and price, where set.</summary>
    /// <exception cref="ModelNotConfiguredException">No model is named and none is configured.</exception>
    /// <exception cref="ModelConfigurationException">The spec is invalid.</exception>
    public ModelInfo Describe(string? model = null)
    {
        var spec = SpecOf(model);
        var entry = _settings.Catalog.FirstOrDefault(e =>
            ModelSpec.Parse(e.Model) is var known && known.Provider == spec.Provider
            && string.Equals(known.Name, spec.Name, StringComparison.OrdinalIgnoreCase));
        var price = entry is { InputUsdPerMillion: { } input, OutputUsdPerMillion: { } output }
            ? new ModelPrice(input, output, entry.CachedInputUsdPerMillion)
            : null;
        return new ModelInfo(spec, entry?.ContextWindow, entry?.MaxOutputTokens, price);
    }

    /// <summary>The model's chat client (with retries) and metadata; the client is shared and must not be disposed.</summary>
    /// <exception cref="ModelNotConfiguredException">No model is named and none is configured.</exception>
    /// <exception cref="ModelConfigurationException">The spec is invalid or its provider is not configured.</exception>
    public ResolvedModel Resolve(string? model = null)
    {
        var info = Describe(model);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_clients.TryGetValue(info.Spec, out var known))
            {
                return known;
            }

            var inner = CreateProviderClient(info, out var endpoint);
            _owned.Add(inner);
            var client = new RetryingChatClient(inner, _settings.Retry, _time, _loggerFactory.CreateLogger<RetryingChatClient>());
            var resolved = new ResolvedModel(info, client);
            _clients[info.Spec] = resolved;
            LogModelReady(_logger, info.Spec.ToString(), endpoint);
            return resolved;
        }
    }

    /// <summary>Disposes every client made, and the connections they share.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var owned in _owned)
            {
                owned.Dispose();
            }

            _handler.Dispose();
        }
    }

    private IChatClient CreateProviderClient(ModelInfo info, out string endpoint)
    {
        var spec = info.Spec;
        switch (spec.Provider)
        {
            case ModelProvider.OpenAI:
            {
                var openAI = _settings.OpenAI;
                if (!openAI.IsSet)
                {
                    throw new ModelConfigurationException(
                        $"The model '{spec}' uses the OpenAI-compatible endpoint, which is not configured: set OPENAI_API_KEY " +
                        "(Models:OpenAI:ApiKey) for api.openai.com, or OPENAI_BASE_URL (Models:OpenAI:BaseUrl) for another " +
                        "OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's /v1).");
                }

                var options = new OpenAIClientOptions
                {
                    Transport = new HttpClientPipelineTransport(OwnedHttpClient(null)),
                    RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                    NetworkTimeout = _settings.RequestTimeout,
                };
                if (openAI.BaseUrl is not null)
                {
                    options.Endpoint = openAI.BaseUrl;
                }

                var key = string.IsNullOrEmpty(openAI.ApiKey) ? NoKey : openAI.ApiKey;
                endpoint = Printable(openAI.BaseUrl ?? new Uri("https://api.openai.com/v1"));
                return new OpenAIClient(new ApiKeyCredential(key), options).GetChatClient(spec.Name).AsIChatClient();
            }

            case ModelProvider.Anthropic:
            {
                var anthropic = _settings.Anthropic;
                if (!anthropic.IsSet)
                {
                    throw new ModelConfigurationException(
                        $"The model '{spec}' uses Anthropic, which is not configured: set ANTHROPIC_API_KEY (Models:Anthropic:ApiKey), " +
                        "and ANTHROPIC_BASE_URL (Models:Anthropic:BaseUrl) for an endpoint other than api.anthropic.com.");
                }

                var options = new ClientOptions
                {
                    ApiKey = string.IsNullOrEmpty(anthropic.ApiKey) ? NoKey : anthropic.ApiKey,
                    HttpClient = OwnedHttpClient(null),
                    MaxRetries = 0,
                    Timeout = _settings.RequestTimeout,
                };
                if (anthropic.BaseUrl is not null)
                {
                    options.BaseUrl = anthropic.BaseUrl.ToString().TrimEnd('/');
                }

                endpoint = Printable(anthropic.BaseUrl ?? new Uri("https://api.anthropic.com"));
                return new AnthropicClient(options).AsIChatClient(spec.Name, info.MaxOutputTokens);
            }

            case ModelProvider.Ollama:
            {
                var host = _settings.Ollama.BaseUrl ?? new Uri("http://127.0.0.1:11434");
                var http = OwnedHttpClient(host);
                http.Timeout = _settings.RequestTimeout;
                endpoint = Printable(host);
                return new OllamaApiClient(http, spec.Name);
            }

            default:
                throw new ModelConfigurationException($"The model '{spec}' names a provider this build cannot reach.");
        }
    }

    private HttpClient OwnedHttpClient(Uri? baseAddress)
    {
        // The providers' own timeouts apply; HttpClient's would cut long streamed replies short.
        var http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan, BaseAddress = baseAddress };
        _owned.Add(http);
        return http;
    }

    // An endpoint may carry credentials in its user-info or query; only scheme, host, port and path are logged.
    private static string Printable(Uri uri) => uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} is reached at {Endpoint}")]
    private static partial void LogModelReady(ILogger logger, string model, string endpoint);
}
