using System.Text.Json;

namespace Runable.Web.Api;

/// <summary>One event of a job's log; <see cref="Seq"/> counts from 1 per job and never repeats.</summary>
public sealed record JobEventView(long Seq, string Type, JsonElement Data, DateTimeOffset CreatedAt);
