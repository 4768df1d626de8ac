using Runable.Orchestrator.Jobs;

namespace Runable.Orchestrator.Workspaces;

/// <summary>What a job's workspace starts from: an upload, a git repository (at an optional ref), or nothing.</summary>
public sealed record WorkspaceSource
{
    /// <summary>An upload id (<c>upl_...</c>) of the job's tenant.</summary>
    public string? UploadId { get; init; }

    public string? GitUrl { get; init; }

    /// <summary>A branch, tag or full commit id; the repository's default branch when absent.</summary>
    public string? GitRef { get; init; }

    /// <summary>An empty workspace.</summary>
    public static WorkspaceSource Empty { get; } = new();

    /// <summary>The source a job asked for in <c>workspace</c> (empty when it gave none).</summary>
    public static WorkspaceSource From(JobWorkspaceRequest? request) => request is null
        ? Empty
        : new WorkspaceSource { UploadId = request.ArchiveId, GitUrl = request.GitUrl, GitRef = request.GitRef };
}
