using System.Text;
using Runable.Box.Files;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Files;

namespace Runable.Box.Server.Files;

/// <summary>The original API's file routes (<c>/fs/*</c>), kept for its clients; thin adapters over the same <see cref="FileService"/>.</summary>
public static class SeedFileEndpoints
{
    /// <summary>Maps <c>/fs/write</c>, <c>/fs/read</c>, <c>/fs/move</c> and <c>/fs/delete</c>; returns the group so callers can add metadata.</summary>
    public static RouteGroupBuilder MapSeedFileEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/fs").WithTags("Seed-compatible");

        group.MapPost("/write", async (FsWriteRequest request, FileService files, CancellationToken cancellationToken) =>
            {
                using var content = new MemoryStream(Encoding.UTF8.GetBytes(request.Content ?? throw BoxException.InvalidArgument("content is required.")));
                await files.WriteAsync(request.Path ?? throw BoxException.InvalidArgument("path is required."), content, cancellationToken);
                return TypedResults.Ok(new StatusResult());
            })
            .WithSummary("Write a text file (original API).");

        group.MapGet("/read", (string? path, FileService files) =>
                TypedResults.Ok(new FsReadResult { Content = files.ReadAllText(path ?? throw BoxException.InvalidArgument("path is required.")) }))
            .WithSummary("Read a text file (original API).");

        group.MapPost("/move", (FileMoveRequest request, FileService files) =>
            {
                files.Move(request with { Overwrite = request.Overwrite ?? true });
                return TypedResults.Ok(new StatusResult());
            })
            .WithSummary("Move a file or directory, replacing the destination (original API).");

        group.MapPost("/delete", (FilePathRequest request, FileService files) =>
            {
                files.Delete(request.Path ?? throw BoxException.InvalidArgument("path is required."), recursive: true);
                return TypedResults.Ok(new StatusResult());
            })
            .WithSummary("Delete a file or a directory with its contents (original API).");

        return group;
    }
}
