namespace Runable.Web.Api;

/// <summary>One page of <c>GET /v1/jobs</c>.</summary>
public sealed record JobPageView(IReadOnlyList<JobView> Items, string? NextCursor);
