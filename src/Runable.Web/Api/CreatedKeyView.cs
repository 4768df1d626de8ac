namespace Runable.Web.Api;

/// <summary>A new key with its secret, which <c>POST /v1/keys</c> shows this once.</summary>
public sealed record CreatedKeyView(string Id, string Key, string Tenant, IReadOnlyList<string> Scopes);
