using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Runable.Box.Protocol;
using Runable.Web.Api;
using Runable.Web.Hosting;

namespace Runable.Web.Session;

/// <summary>
/// The signed-in key of one browser tab's circuit: its identity and its client of the API. When the orchestrator refuses
/// the key (revoked since sign-in), the session ends and every page says so, with the way back to sign in.
/// </summary>
public sealed class UiSession(AuthenticationStateProvider authentication, OrchestratorAddress orchestrator) : IDisposable
{
    private RunableApi? _api;

    /// <summary>Who is signed in; null before <see cref="StartAsync"/> or without a key.</summary>
    public WebIdentity? Identity { get; private set; }

    /// <summary>True once the orchestrator refused the key.</summary>
    public bool Ended { get; private set; }

    /// <summary>Raised when the session ends.</summary>
    public event Action? EndedChanged;

    /// <summary>The API with this session's key.</summary>
    public RunableApi Api => _api ?? throw new InvalidOperationException("The session has not started: no key is signed in.");

    /// <summary>Takes the key the circuit was opened with; false when there is none.</summary>
    public async Task<bool> StartAsync()
    {
        if (_api is not null)
        {
            return true;
        }

        var user = (await authentication.GetAuthenticationStateAsync()).User;
        if (WebPrincipal.Key(user) is not { } key || WebPrincipal.Identity(user) is not { } identity)
        {
            return false;
        }

        Identity = identity;
        _api = orchestrator.Api(key);
        return true;
    }

    /// <summary>
    /// What to tell the person about <paramref name="error"/>; a refused key also ends the session. Errors that are not
    /// the API's, the box's or the network's are bugs and are not caught here.
    /// </summary>
    public string Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        switch (error)
        {
            case ApiException { KeyRefused: true }:
            case BoxException { Code: "unauthorized" }:
                End();
                return "The orchestrator no longer accepts this key (it was revoked or is unknown). Sign in again with a valid key.";
            case ApiException { Status: 403 } api:
                return $"This key may not do that: {api.Message} Ask an admin for a key with that scope.";
            case ApiException api:
                return api.Message;
            case BoxException box:
                return $"The sandbox answered {box.Code}: {box.Message}";
            case HttpRequestException:
            case IOException:
                return "The orchestrator could not be reached: " + error.Message + " Check that it is running, then try again.";
            case OperationCanceledException:
                return "The request took too long and was stopped; try again.";
            default:
                return error.Message;
        }
    }

    /// <summary>True for the errors <see cref="Describe"/> knows: the API's, the box's, the network's, a timeout.</summary>
    public static bool IsExpected(Exception error) =>
        error is ApiException or BoxException or HttpRequestException or IOException or OperationCanceledException or System.Text.Json.JsonException;

    /// <summary>Ends the session (the key was refused).</summary>
    public void End()
    {
        if (!Ended)
        {
            Ended = true;
            EndedChanged?.Invoke();
        }
    }

    public void Dispose() => _api?.Dispose();
}
