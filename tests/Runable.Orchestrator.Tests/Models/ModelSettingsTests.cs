using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>Settings from configuration and the conventional environment variables, and the catalog's answers to them.</summary>
public sealed class ModelSettingsTests
{
    private static readonly Func<string, string?> s_noEnvironment = _ => null;

    [Fact]
    public void EnvironmentVariables_ConfigureEveryProvider_AndTheDefaultModel()
    {
        var settings = ModelSettings.Load(null, ModelTestSettings.Environment(
            ("RUNABLE_MODEL", "anthropic:claude-sonnet-4-5"),
            ("OPENAI_API_KEY", "sk-openai"), ("OPENAI_BASE_URL", "http://gpu-box:8000/v1"),
            ("ANTHROPIC_API_KEY", "sk-ant"), ("ANTHROPIC_BASE_URL", "https://proxy.example.com"),
            ("OLLAMA_HOST", "gpu-box")));

        Assert.Equal("anthropic:claude-sonnet-4-5", settings.DefaultModel);
        Assert.Equal(("sk-openai", new Uri("http://gpu-box:8000/v1")), (settings.OpenAI.ApiKey, settings.OpenAI.BaseUrl));
        Assert.Equal(("sk-ant", new Uri("https://proxy.example.com")), (settings.Anthropic.ApiKey, settings.Anthropic.BaseUrl));
        Assert.Equal(new Uri("http://gpu-box:11434"), settings.Ollama.BaseUrl);
    }

    [Fact]
    public void ConfigurationSection_WinsOverTheEnvironment_AndCarriesPricesAndRetries()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Models:DefaultModel"] = "openai:gpt-4.1",
            ["Models:OpenAI:ApiKey"] = "sk-from-config",
            ["Models:Catalog:0:Model"] = "openai:gpt-4.1",
            ["Models:Catalog:0:ContextWindow"] = "1047576",
            ["Models:Catalog:0:InputUsdPerMillion"] = "2",
            ["Models:Catalog:0:OutputUsdPerMillion"] = "8",
            ["Models:Catalog:1:Model"] = "ollama:llama3.1:8b",
            ["Models:Catalog:1:ContextWindow"] = "8192",
            ["Models:Retry:MaxAttempts"] = "6",
            ["Models:RequestTimeout"] = "00:02:00",
        }).Build();

        var settings = ModelSettings.Load(configuration, ModelTestSettings.Environment(
            ("RUNABLE_MODEL", "ollama:qwen"), ("OPENAI_API_KEY", "sk-from-env"), ("OPENAI_BASE_URL", "http://localhost:1234/v1")));
        using var catalog = new ModelCatalog(settings);

        Assert.Equal(("openai:gpt-4.1", "sk-from-config"), (settings.DefaultModel, settings.OpenAI.ApiKey));
        Assert.Equal(new Uri("http://localhost:1234/v1"), settings.OpenAI.BaseUrl);
        Assert.Equal((6, TimeSpan.FromMinutes(2)), (settings.Retry.MaxAttempts, settings.RequestTimeout));
        Assert.Equal(new ModelInfo(new ModelSpec(ModelProvider.OpenAI, "gpt-4.1"), 1_047_576, null, new ModelPrice(2m, 8m)), catalog.Describe());
        Assert.Equal(new ModelInfo(new ModelSpec(ModelProvider.Ollama, "llama3.1:8b"), 8192), catalog.Describe("ollama:llama3.1:8b"));
        Assert.Equal(new ModelInfo(new ModelSpec(ModelProvider.OpenAI, "unlisted")), catalog.Describe("unlisted"));
    }

    [Theory]
    [InlineData("gpu-box", "http://gpu-box:11434/")]
    [InlineData("0.0.0.0:11500", "http://0.0.0.0:11500/")]
    [InlineData("[::1]", "http://[::1]:11434/")]
    [InlineData("https://ollama.example.com", "https://ollama.example.com/")]
    [InlineData("http://10.0.0.5:8080/", "http://10.0.0.5:8080/")]
    public void OllamaHost_IsReadAsOllamaReadsIt(string value, string expected)
    {
        Assert.Equal(new Uri(expected), ModelSettings.OllamaHost(value));
    }

    [Theory]
    [InlineData("RUNABLE_MODEL", "bogus:model", "RUNABLE_MODEL")]
    [InlineData("OPENAI_BASE_URL", "not a url", "OPENAI_BASE_URL")]
    [InlineData("ANTHROPIC_BASE_URL", "ftp://example.com", "ANTHROPIC_BASE_URL")]
    public void BadEnvironmentValues_StopLoading_NamingTheVariable(string variable, string value, string named)
    {
        var error = Assert.Throws<ModelConfigurationException>(() => ModelSettings.Load(null, ModelTestSettings.Environment((variable, value))));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadCatalogEntries_StopLoading_NamingTheEntry()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Models:Catalog:0:Model"] = "openai:gpt-4.1",
            ["Models:Catalog:0:InputUsdPerMillion"] = "2",
        }).Build();

        var error = Assert.Throws<ModelConfigurationException>(() => ModelSettings.Load(configuration, s_noEnvironment));

        Assert.Contains("Models:Catalog:0 ('openai:gpt-4.1') needs both InputUsdPerMillion and OutputUsdPerMillion", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoModelConfigured_ResolvingTheDefault_ExplainsWhatToSet()
    {
        using var catalog = new ModelCatalog(ModelSettings.Load(new ConfigurationBuilder().Build(), s_noEnvironment));

        Assert.Null(catalog.DefaultModel);
        var error = Assert.Throws<ModelNotConfiguredException>(() => catalog.Resolve());
        foreach (var setting in new[] { "RUNABLE_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OLLAMA_HOST" })
        {
            Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("openai:gpt-4.1", "OPENAI_API_KEY")]
    [InlineData("gpt-4.1", "OPENAI_BASE_URL")]
    [InlineData("anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY")]
    public void AModelWhoseProviderIsNotConfigured_SaysWhichVariableToSet(string model, string variable)
    {
        using var catalog = new ModelCatalog(ModelSettings.Load(null, ModelTestSettings.Environment(("RUNABLE_MODEL", model))));

        var error = Assert.Throws<ModelConfigurationException>(() => catalog.Resolve());

        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ollama_NeedsNoKey_AndIsReachedAtOllamaHost()
    {
        using var catalog = new ModelCatalog(ModelSettings.Load(null, ModelTestSettings.Environment(("OLLAMA_HOST", "gpu-box:11500"))));

        var metadata = catalog.Resolve("ollama:llama3.1").Client.GetService<ChatClientMetadata>();

        Assert.Equal(new Uri("http://gpu-box:11500"), metadata?.ProviderUri);
        Assert.Equal("llama3.1", metadata?.DefaultModelId);
    }

    [Fact]
    public void TheKey_NeverAppearsInTheSettingsText()
    {
        var settings = ModelSettings.Load(null, ModelTestSettings.Environment(
            ("OPENAI_API_KEY", ModelTestSettings.Key), ("ANTHROPIC_API_KEY", ModelTestSettings.Key + "-ant")));

        var text = settings.ToString();

        Assert.DoesNotContain(ModelTestSettings.Key, text, StringComparison.Ordinal);
        Assert.Contains("ApiKey = (set)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AddModels_ReadsConfiguration_AndSharesOneCatalog()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Models:DefaultModel"] = "ollama:llama3.1",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddModels().BuildServiceProvider();

        var catalog = services.GetRequiredService<ModelCatalog>();

        Assert.Same(catalog, services.GetRequiredService<ModelCatalog>());
        Assert.Equal(new ModelSpec(ModelProvider.Ollama, "llama3.1"), catalog.DefaultModel);
    }
}
