namespace Runable.Web.Api;

/// <summary>A network policy: <c>none</c>, <c>allowlist</c> (with the allowed names) or <c>open</c>.</summary>
public sealed record NetworkView(string? Mode, IReadOnlyList<string>? Allow);
