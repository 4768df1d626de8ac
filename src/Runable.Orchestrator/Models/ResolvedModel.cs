using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Models;

/// <summary>A model's chat client, with retries, and its metadata. The catalog owns the client: do not dispose it.</summary>
public sealed record ResolvedModel(ModelInfo Info, IChatClient Client);
