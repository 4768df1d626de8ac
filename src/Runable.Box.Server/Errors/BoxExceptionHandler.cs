using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Runable.Box.Protocol;

namespace Runable.Box.Server.Errors;

/// <summary>
/// The one place where failures become HTTP responses: typed <see cref="BoxException"/>s and request-parsing
/// errors turn into 4xx problems with a stable code; anything else is a bug and becomes a logged 500.
/// </summary>
public sealed partial class BoxExceptionHandler(ILogger<BoxExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case BoxException box:
                await ProblemWriter.WriteAsync(httpContext, StatusOf(box.Kind), box.Code, box.Message, box.Details);
                return true;

            case BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge:
                await ProblemWriter.WriteAsync(httpContext, 413, BoxErrorCodes.BodyTooLarge,
                    "The request body is larger than this route accepts; send less, or split the upload.");
                return true;

            case BadHttpRequestException bad:
                var jsonError = FindJsonException(bad);
                if (jsonError is not null)
                {
                    await ProblemWriter.WriteAsync(httpContext, 400, BoxErrorCodes.InvalidJson,
                        $"The request body is not valid JSON for this route: {jsonError.Message}");
                }
                else
                {
                    await ProblemWriter.WriteAsync(httpContext, bad.StatusCode, BoxErrorCodes.InvalidArgument, bad.Message);
                }

                return true;

            case OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested:
                return true;

            default:
                LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
                await ProblemWriter.WriteAsync(httpContext, 500, BoxErrorCodes.Internal,
                    "The box failed unexpectedly; this is a bug. The server log has the details.");
                return true;
        }
    }

    /// <summary>The HTTP status for each kind of box failure.</summary>
    public static int StatusOf(BoxErrorKind kind) => kind switch
    {
        BoxErrorKind.InvalidArgument => 400,
        BoxErrorKind.Forbidden => 403,
        BoxErrorKind.NotFound => 404,
        BoxErrorKind.Conflict => 409,
        BoxErrorKind.TooLarge => 413,
        BoxErrorKind.LimitReached => 429,
        BoxErrorKind.Unavailable => 503,
        _ => 500,
    };

    private static JsonException? FindJsonException(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is JsonException json)
            {
                return json;
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled failure serving {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
