namespace Runable.Web.Api;

/// <summary>How a job ended: the agent's summary and the reason it stopped.</summary>
public sealed record JobResultView(string? Summary, string? Reason);
