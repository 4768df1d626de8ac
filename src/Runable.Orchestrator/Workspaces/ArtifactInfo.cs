namespace Runable.Orchestrator.Workspaces;

/// <summary>One saved artifact of a job (<c>diff.patch</c>, <c>workspace.tar.gz</c> ...).</summary>
public sealed record ArtifactInfo(string Name, long SizeBytes, DateTimeOffset CreatedAt);
