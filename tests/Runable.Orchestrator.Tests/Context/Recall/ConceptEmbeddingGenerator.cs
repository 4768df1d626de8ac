using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Tests.Context.Recall;

/// <summary>
/// A test embedding generator whose vectors put words of one meaning (car and automobile, truck and lorry) on one
/// axis and hash every other word onto the rest, so "car" is near a text about an automobile with no word in common.
/// Counts the texts it embedded; with <see cref="Fail"/>, every call fails as a provider that is down would.
/// </summary>
public sealed class ConceptEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private const int Dimensions = 64;
    private static readonly string[][] s_concepts = [["car", "cars", "automobile", "automobiles"], ["truck", "trucks", "lorry", "lorries"]];
    private int _embedded;

    public bool Fail { get; init; }

    public int Embedded => Volatile.Read(ref _embedded);

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (Fail)
        {
            throw new HttpRequestException("the embedding provider is down");
        }

        var embeddings = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            Interlocked.Increment(ref _embedded);
            var vector = new float[Dimensions];
            foreach (var word in value.ToLowerInvariant().Split([' ', ':', '.', '/', ',', '\n'], StringSplitOptions.RemoveEmptyEntries))
            {
                var concept = Array.FindIndex(s_concepts, c => c.Contains(word));
                if (concept >= 0)
                {
                    vector[concept] += 10;
                }
                else
                {
                    vector[s_concepts.Length + ((word.GetHashCode(StringComparison.Ordinal) & 0x7fffffff) % (Dimensions - s_concepts.Length))] += 1;
                }
            }

            embeddings.Add(new Embedding<float>(vector));
        }

        return Task.FromResult(embeddings);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("concepts", defaultModelId: "concepts-64") : null;

    public void Dispose()
    {
    }
}
