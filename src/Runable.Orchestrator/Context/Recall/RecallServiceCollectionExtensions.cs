using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Runable.Orchestrator.Models;
using Runable.Orchestrator.Store;

namespace Runable.Orchestrator.Context.Recall;

/// <summary>Registers the <see cref="RecallIndex"/> over the orchestrator's store.</summary>
public static class RecallServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="RecallIndex"/>. It ranks by embeddings too when the services hold an
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of strings to float embeddings, or else when
    /// <c>Recall:EmbeddingModel</c> (<c>RUNABLE_EMBEDDING_MODEL</c>) names an embedding model of a configured endpoint
    /// (<see cref="RecallEmbeddings"/>); without either, by words alone.
    /// </summary>
    public static IServiceCollection AddRecall(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp =>
        {
            var store = sp.GetRequiredService<OrchestratorStore>();
            var logger = sp.GetService<ILogger<RecallIndex>>();
            if (sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>() is { } given)
            {
                return new RecallIndex(store, given, logger);
            }

            var configuration = sp.GetService<IConfiguration>();
            return RecallEmbeddings.Configured(configuration) is { } spec
                ? new RecallIndex(store, RecallEmbeddings.Create(sp.GetService<ModelSettings>() ?? ModelSettings.Load(configuration), spec), logger, ownsEmbeddings: true)
                : new RecallIndex(store, null, logger);
        });
        return services;
    }
}
