using System.Text.Json;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Server.Errors;

/// <summary>Writes <c>application/problem+json</c> responses in the box's one shape: type, title, status, detail, code.</summary>
public static class ProblemWriter
{
    /// <summary>Builds the problem body for a status, code and message.</summary>
    public static BoxProblem Create(int status, string code, string detail, IDictionary<string, object?>? details = null)
    {
        Dictionary<string, JsonElement>? extensions = null;
        if (details is { Count: > 0 })
        {
            extensions = [];
            foreach (var (key, value) in details)
            {
                extensions[key] = ToElement(value);
            }
        }

        return new BoxProblem
        {
            Type = $"https://runable.dev/problems/{code}",
            Title = TitleOf(status),
            Status = status,
            Detail = detail,
            Code = code,
            Extensions = extensions,
        };
    }

    /// <summary>Writes a problem response unless the response has already started.</summary>
    public static async Task WriteAsync(HttpContext context, int status, string code, string detail,
        IDictionary<string, object?>? details = null)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        await JsonSerializer.SerializeAsync(context.Response.Body, Create(status, code, detail, details),
            BoxJsonContext.Default.BoxProblem, context.RequestAborted);
    }

    private static JsonElement ToElement(object? value) => value switch
    {
        JsonElement element => element,
        int number => JsonSerializer.SerializeToElement(number, BoxJsonContext.Default.Int64),
        long number => JsonSerializer.SerializeToElement(number, BoxJsonContext.Default.Int64),
        bool flag => JsonSerializer.SerializeToElement(flag, BoxJsonContext.Default.Boolean),
        null => JsonSerializer.SerializeToElement<string?>(null, BoxJsonContext.Default.String),
        _ => JsonSerializer.SerializeToElement(value.ToString(), BoxJsonContext.Default.String),
    };

    private static string TitleOf(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Payload too large",
        415 => "Unsupported media type",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => status >= 500 ? "Internal server error" : "Request failed",
    };
}
