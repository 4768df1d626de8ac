namespace Runable.Web.Api;

/// <summary>The body of <c>POST /v1/sandboxes</c> as the new-sandbox form fills it.</summary>
public sealed record NewSandboxRequest
{
    public SandboxLimitsView? Limits { get; init; }

    public NetworkView? Network { get; init; }

    public double? IdleTimeoutS { get; init; }
}
