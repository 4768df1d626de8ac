namespace Runable.Web.Api;

/// <summary>The body of <c>POST /v1/jobs</c> as the new-job form fills it.</summary>
public sealed record NewJobRequest
{
    public required string Task { get; init; }

    public NewJobWorkspace? Workspace { get; init; }

    public string? Model { get; init; }

    public NewJobLimits? Limits { get; init; }

    public NetworkView? Network { get; init; }

    public IReadOnlyList<string>? Labels { get; init; }
}
