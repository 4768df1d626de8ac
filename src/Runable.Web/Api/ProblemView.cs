namespace Runable.Web.Api;

/// <summary>An <c>application/problem+json</c> answer of the API.</summary>
public sealed record ProblemView(string? Title, int? Status, string? Detail, string? Code);
