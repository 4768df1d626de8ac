namespace Runable.Web.Hosting;

/// <summary>
/// The orchestrator's key check as the UI sees it: the identity of a key, or null for an unknown or revoked one. The UI
/// uses it to sign a key in and to name who is signed in; everything the UI does goes through the API with the key.
/// </summary>
/// <param name="authenticate">The host's check (the orchestrator's <c>ApiKeyService.Authenticate</c>).</param>
public sealed class WebKeyCheck(Func<string, WebIdentity?> authenticate)
{
    /// <summary>The identity of <paramref name="key"/>, or null when it is empty, unknown or revoked.</summary>
    public WebIdentity? Authenticate(string? key) => string.IsNullOrEmpty(key) ? null : authenticate(key);
}
