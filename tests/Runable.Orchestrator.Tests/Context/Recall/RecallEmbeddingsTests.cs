using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Runable.Orchestrator.Context.Recall;
using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Tests.Context.Recall;

/// <summary>An embedding model configured by name, reached over HTTP like the chat models, and what recall does with it.</summary>
public sealed class RecallEmbeddingsTests : IDisposable
{
    private readonly RecallTestStore _db = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task AConfiguredEmbeddingModel_IsCalledOverHttp_AndFindsByMeaningWhatWordsCannot()
    {
        await using var server = await EmbeddingServer.StartAsync(Ct);
        var job = await _db.SubmitAsync("t");
        var automobile = await _db.ToolResultAsync(job.Id, "The automobile fixture loads 12 rows from fixtures/garage.json");
        for (var i = 0; i < 5; i++)
        {
            await _db.ToolResultAsync(job.Id, $"unrelated output {i}: compiled 12 modules");
        }

        using var services = Services(new Dictionary<string, string?> { [RecallEmbeddings.SettingName] = "openai:concepts-64" },
            new ModelSettings { OpenAI = new ModelEndpointSettings { BaseUrl = server.BaseUrl, ApiKey = "embedding-key" } });
        var index = services.GetRequiredService<RecallIndex>();

        Assert.True(index.HasEmbeddings);
        Assert.Equal(automobile, (await index.SearchAsync("t", job.Id, "car", 3, Ct))[0].Seq);
        var requests = server.Requests;
        Assert.All(requests, r => Assert.Equal(("concepts-64", "Bearer embedding-key"), (r.Model, r.Authorization)));
        Assert.Equal(7, requests.Sum(r => r.Inputs)); // six events, then the query
    }

    [Fact]
    public async Task WithoutAnEmbeddingModel_RecallRanksByWordsAlone()
    {
        using var services = Services([], new ModelSettings());
        var index = services.GetRequiredService<RecallIndex>();
        Assert.False(index.HasEmbeddings);

        var job = await _db.SubmitAsync("t");
        await _db.ToolResultAsync(job.Id, "The automobile fixture loads 12 rows");
        Assert.Empty(await index.SearchAsync("t", job.Id, "car", 3, Ct));
    }

    [Theory]
    [InlineData("anthropic:claude-sonnet-4-5", "names Anthropic, which serves no embeddings")]
    [InlineData("bogus:thing", "RUNABLE_EMBEDDING_MODEL (Recall:EmbeddingModel) is invalid")]
    [InlineData("openai:text-embedding-3-small", "set OPENAI_API_KEY")]
    public void ABadEmbeddingModel_StopsStartUp_WithAMessageNamingTheSetting(string spec, string message)
    {
        using var services = Services(new Dictionary<string, string?> { [RecallEmbeddings.SettingName] = spec }, new ModelSettings());
        var error = Assert.Throws<ModelConfigurationException>(() => services.GetRequiredService<RecallIndex>());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheEnvironmentVariable_NamesTheModel_WhenTheConfigurationDoesNot()
    {
        var configuration = new ConfigurationBuilder().Build();
        Assert.Equal("ollama:nomic-embed-text", RecallEmbeddings.Configured(configuration, name => name == "RUNABLE_EMBEDDING_MODEL" ? " ollama:nomic-embed-text " : null));
        Assert.Null(RecallEmbeddings.Configured(configuration, _ => null));
    }

    private ServiceProvider Services(Dictionary<string, string?> settings, ModelSettings models) =>
        new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddSingleton(models)
            .AddSingleton(_db.Store)
            .AddRecall()
            .BuildServiceProvider();
}
