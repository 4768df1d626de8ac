namespace Runable.Web.Api;

/// <summary>The body of <c>POST /v1/keys</c>.</summary>
public sealed record NewKeyRequest(string Name, IReadOnlyList<string> Scopes, string? Tenant);
