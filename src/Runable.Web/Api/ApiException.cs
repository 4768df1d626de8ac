namespace Runable.Web.Api;

/// <summary>An API call the orchestrator refused: its status, its stable code and the sentence that says what to do.</summary>
public sealed class ApiException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    /// <summary>True when the key itself was refused (unknown or revoked since sign-in).</summary>
    public bool KeyRefused => Status == 401;
}
