using Runable.Box.Server.Hosting;
using Runable.Box.Files;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Files;

namespace Runable.Box.Server.Files;

/// <summary>Maps <c>/files</c> onto the <see cref="FileService"/>: every path confined to the workspace.</summary>
public static class FileEndpoints
{
    /// <summary>Maps the file routes; JSON routes get <paramref name="jsonLimit"/>, uploads keep the server's upload limit.</summary>
    public static IEndpointRouteBuilder MapFileEndpoints(this IEndpointRouteBuilder endpoints, BodySizeLimit jsonLimit)
    {
        var group = endpoints.MapGroup("/files").WithTags("Files");

        group.MapGet("/", (string? path, FileService files) =>
            {
                var stream = files.OpenRead(Required(path));
                return TypedResults.Stream(stream, "application/octet-stream", enableRangeProcessing: true);
            })
            .WithSummary("Read a file's raw bytes.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream");

        group.MapPut("/", async (string? path, HttpRequest request, FileService files) =>
                TypedResults.Ok(await files.WriteAsync(Required(path), request.Body, request.HttpContext.RequestAborted)))
            .WithSummary("Write a file from the raw request body; parent directories are created and the file is replaced atomically.")
            .Accepts<byte[]>("application/octet-stream", "*/*");

        group.MapDelete("/", (string? path, bool? recursive, FileService files) =>
            {
                files.Delete(Required(path), recursive ?? false);
                return TypedResults.NoContent();
            })
            .WithSummary("Delete a file, symlink or directory (directories with contents need recursive=true).");

        group.MapGet("/text", (string? path, int? start_line, int? end_line, FileService files) =>
                TypedResults.Ok(files.ReadText(Required(path), start_line, end_line)))
            .WithSummary("Read a range of lines of a text file (1-based, inclusive).");

        group.MapPost("/edit", async (FileEditRequest request, FileService files, CancellationToken cancellationToken) =>
                TypedResults.Ok(await files.EditAsync(request, cancellationToken)))
            .WithMetadata(jsonLimit)
            .WithSummary("Replace the one occurrence of old_str with new_str; 409 with the count when it occurs zero or several times.");

        group.MapGet("/list", (string? path, int? depth, FileService files) => TypedResults.Ok(files.List(path, depth)))
            .WithSummary("List a directory (depth levels, never through symlinks).");

        group.MapPost("/search", (FileSearchRequest request, FileService files, CancellationToken cancellationToken) =>
                TypedResults.Ok(files.Search(request, cancellationToken)))
            .WithMetadata(jsonLimit)
            .WithSummary("Search file contents for a literal or a regular expression, with an optional glob; binary files and .git are skipped.");

        group.MapPost("/move", (FileMoveRequest request, FileService files) => TypedResults.Ok(files.Move(request)))
            .WithMetadata(jsonLimit)
            .WithSummary("Move or rename a file or directory (overwrite: true replaces an existing destination).");

        group.MapPost("/mkdir", (FilePathRequest request, FileService files) => TypedResults.Ok(files.Mkdir(Required(request.Path))))
            .WithMetadata(jsonLimit)
            .WithSummary("Create a directory and its parents.");

        group.MapGet("/stat", (string? path, FileService files) => TypedResults.Ok(files.Stat(Required(path))))
            .WithSummary("Describe a path (a symlink is described, not followed).");

        group.MapGet("/archive", (string? path, HttpContext context, FileService files) =>
            {
                var relative = files.Normalize(path ?? "");
                if (files.Stat(relative).Type is FileEntryType.File or FileEntryType.Other)
                {
                    throw new BoxException(BoxErrorKind.InvalidArgument, BoxErrorCodes.NotADirectory, $"'{relative}' is not a directory; read a file with GET /files.");
                }
                var name = relative.Length == 0 ? "workspace" : Path.GetFileName(relative);
                return Results.Stream(output => files.WriteArchiveAsync(relative, output, context.RequestAborted),
                    "application/gzip", $"{name}.tar.gz");
            })
            .WithSummary("Download a directory as a tar.gz (symlinks stored as links).")
            .Produces(StatusCodes.Status200OK, contentType: "application/gzip");

        group.MapPost("/archive", async (string? path, HttpRequest request, FileService files, Runable.Box.BoxState state) =>
            {
                var spool = Path.Combine(state.StatePath("uploads"), $"{Guid.NewGuid():N}.tar.gz");
                try
                {
                    await using (var file = File.Create(spool))
                    {
                        await request.Body.CopyToAsync(file, request.HttpContext.RequestAborted);
                    }

                    return TypedResults.Ok(await files.ExtractArchiveAsync(path, () => File.OpenRead(spool), request.HttpContext.RequestAborted));
                }
                finally
                {
                    File.Delete(spool);
                }
            })
            .WithSummary("Unpack a tar.gz into a directory; entries that would land outside refuse the whole archive before anything is written.")
            .Accepts<byte[]>("application/gzip", "*/*");

        return endpoints;
    }

    private static string Required(string? path) =>
        path ?? throw BoxException.InvalidArgument("The 'path' query parameter is required.");
}
