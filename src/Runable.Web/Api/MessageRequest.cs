namespace Runable.Web.Api;

/// <summary>The body of <c>POST /v1/jobs/{id}/messages</c>.</summary>
public sealed record MessageRequest(string Text);
