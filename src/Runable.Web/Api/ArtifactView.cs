namespace Runable.Web.Api;

/// <summary>One saved artifact of a job (<c>diff.patch</c>, <c>workspace.tar.gz</c>, <c>trajectory.jsonl</c>).</summary>
public sealed record ArtifactView(string Name, long SizeBytes, DateTimeOffset CreatedAt);
