using Runable.Box.Protocol;

namespace Runable.Box.Server.Errors;

/// <summary>Gives the bodiless error statuses the framework sets by itself (no route, wrong method, body too large) the same problem shape as every other error.</summary>
internal static class StatusProblems
{
    public static Task WriteAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var (code, detail) = status switch
        {
            404 => (BoxErrorCodes.NotFound, "No such route; the API reference is at /docs."),
            405 => (BoxErrorCodes.MethodNotAllowed, $"This route does not accept {context.Request.Method}; the API reference is at /docs."),
            413 => (BoxErrorCodes.BodyTooLarge, "The request body is larger than this route accepts; send less, or split the upload."),
            415 => (BoxErrorCodes.InvalidArgument, "Send the body as JSON with 'Content-Type: application/json'."),
            400 => (BoxErrorCodes.InvalidArgument, "The request is malformed."),
            _ => ($"http_{status}", "The request failed."),
        };
        return ProblemWriter.WriteAsync(context, status, code, detail);
    }
}
