namespace Runable.Orchestrator.Auth;

/// <summary>A failure the caller can act on: an HTTP status and a stable snake_case code.</summary>
public sealed class OrchestratorException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}
