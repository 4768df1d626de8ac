namespace Runable.Orchestrator.Workspaces;

/// <summary>An uploaded workspace archive, as <c>POST /v1/uploads</c> answers it; its id goes in a job's <c>workspace.archive_id</c>.</summary>
public sealed record UploadInfo(string Id, long SizeBytes, DateTimeOffset CreatedAt)
{
    /// <summary>The id again, under the name the API contract gives it (<c>{archive_id}</c>).</summary>
    public string ArchiveId => Id;
}
