namespace Runable.Web.Api;

/// <summary>Where a new job's workspace comes from: a git repository or an upload.</summary>
public sealed record NewJobWorkspace(string? GitUrl, string? GitRef, string? ArchiveId);
