namespace Runable.Orchestrator.Context;

/// <summary>Writes the structured summary that stands for a span of older work (<see cref="ChatSummarizer"/> asks a model).</summary>
public interface IContextSummarizer
{
    /// <summary>The summary's name in the job's events (the model that writes it).</summary>
    string Name { get; }

    /// <summary>The summary of <paramref name="request"/>'s transcript rolled into its previous summary.</summary>
    Task<string> SummarizeAsync(ContextSummaryRequest request, CancellationToken cancellationToken = default);
}
