using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Workspaces;

/// <summary>The uploads routes: <c>POST /v1/uploads</c> (a tar.gz, raw or as a multipart file) and the tenant's uploads.</summary>
public static class UploadEndpoints
{
    /// <summary>Room for multipart boundaries and part headers around the file.</summary>
    private const long MultipartOverhead = 64 * 1024;

    public static IEndpointRouteBuilder MapUploadEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var store = endpoints.ServiceProvider.GetRequiredService<UploadStore>();
        var uploads = endpoints.MapGroup("/v1/uploads").WithTags("Uploads");
        uploads.MapPost("", async (HttpContext context, UploadStore uploads) =>
        {
            var caller = context.Require(Caller.JobsWrite);
            var info = await uploads.SaveAsync(caller.Tenant, await OpenFileAsync(context.Request, uploads.MaxBytes, context.RequestAborted), context.RequestAborted);
            return Results.Created($"/v1/uploads/{info.Id}", info);
        }).WithMetadata(new RequestSizeLimitAttribute(store.MaxBytes + MultipartOverhead))
            .WithSummary("Upload a workspace as tar.gz (the raw body, or a multipart file); its id is a job's workspace.archive_id.");

        uploads.MapGet("", (HttpContext context, UploadStore uploads) => Results.Ok(uploads.List(context.Require(Caller.JobsRead).Tenant)))
            .WithSummary("The key's tenant's uploads, oldest first.");
        uploads.MapGet("/{id}", (HttpContext context, UploadStore uploads, string id) => Results.Ok(uploads.Get(context.Require(Caller.JobsRead).Tenant, id)))
            .WithSummary("One upload.");
        uploads.MapDelete("/{id}", (HttpContext context, UploadStore uploads, string id) =>
        {
            uploads.Delete(context.Require(Caller.JobsWrite).Tenant, id);
            return Results.NoContent();
        }).WithSummary("Delete an upload (jobs already seeded from it keep their workspaces).");
        return endpoints;
    }

    /// <summary>The uploaded bytes: the first file part of a multipart form, or else the body itself.</summary>
    private static async Task<Stream> OpenFileAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        var multipart = MediaTypeHeaderValue.TryParse(request.ContentType, out var type) &&
            type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        if (request.ContentLength > maxBytes + (multipart ? MultipartOverhead : 0))
        {
            throw new OrchestratorException(413, "upload_too_large", $"The upload has {request.ContentLength} bytes; at most {maxBytes} are accepted.");
        }

        if (!multipart)
        {
            return request.Body;
        }

        var boundary = HeaderUtilities.RemoveQuotes(type!.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw new OrchestratorException(400, "invalid_argument", "The multipart body has no boundary in its Content-Type.");
        }

        var reader = new MultipartReader(boundary, request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) &&
                    (!StringSegment.IsNullOrEmpty(disposition.FileName) || !StringSegment.IsNullOrEmpty(disposition.FileNameStar)))
                {
                    return section.Body;
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw new OrchestratorException(400, "invalid_argument", $"The multipart body could not be read: {e.Message}");
        }

        throw new OrchestratorException(400, "invalid_argument",
            "The multipart body has no file part; send the archive as a file (curl -F file=@workspace.tar.gz) or as the raw body.");
    }
}
