using System.Text.Json;

namespace Runable.Orchestrator.Jobs;

/// <summary>One entry of a job's append-only event log; <see cref="Seq"/> counts from 1 per job.</summary>
public sealed record JobEvent(long Seq, string Type, JsonElement Data, DateTimeOffset CreatedAt);
