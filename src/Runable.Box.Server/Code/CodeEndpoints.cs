using Runable.Box.Code;
using Runable.Box.Protocol.Code;

namespace Runable.Box.Server.Code;

/// <summary>Maps <c>/code</c> onto the <see cref="CodeService"/>: stateful Python and TypeScript in Jupyter kernels.</summary>
public static class CodeEndpoints
{
    public static RouteGroupBuilder MapCodeEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/code").WithTags("Code");

        group.MapPost("/exec", async (CodeExecRequest request, CodeService code, CancellationToken cancellationToken) =>
                TypedResults.Ok(await code.ExecuteAsync(request, cancellationToken)))
            .WithSummary("Run code in a persistent kernel (the language's default context unless context_id names one); outputs in order, and stdout/stderr/exit_code flattened.");

        group.MapPost("/contexts", (CodeContextRequest? request, CodeService code) =>
            {
                var context = code.Create(request ?? new CodeContextRequest());
                return TypedResults.Created($"/code/contexts/{context.ContextId}", context);
            })
            .WithSummary("Create a named context (its own kernel, started on first use).");

        group.MapGet("/contexts", (CodeService code) => TypedResults.Ok(code.List()))
            .WithSummary("List the contexts and their kernels' states.");

        group.MapGet("/contexts/{contextId}", (string contextId, CodeService code) => TypedResults.Ok(code.Get(contextId)))
            .WithSummary("A context and its kernel's state.");

        group.MapDelete("/contexts/{contextId}", async (string contextId, CodeService code) =>
            {
                await code.DeleteAsync(contextId);
                return TypedResults.NoContent();
            })
            .WithSummary("Stop a context's kernel and forget the context.");

        group.MapPost("/contexts/{contextId}/interrupt", async (string contextId, CodeService code) =>
            {
                await code.InterruptAsync(contextId);
                return TypedResults.Ok(code.Get(contextId));
            })
            .WithSummary("Interrupt what the context runs now (KeyboardInterrupt in Python); its state is kept.");

        group.MapPost("/contexts/{contextId}/restart", async (string contextId, CodeService code, CancellationToken cancellationToken) =>
                TypedResults.Ok(await code.RestartAsync(contextId, cancellationToken)))
            .WithSummary("Replace the context's kernel with a fresh one: all its state is lost; a dead kernel comes back this way.");

        group.MapGet("/outputs/{outputId}", (string outputId, string? stream, long? offset, int? limit, CodeService code) =>
                TypedResults.Ok(code.ReadOutput(outputId, stream, offset ?? 0, limit ?? 65536)))
            .WithSummary("The whole stdout or stderr of a call whose reply was cut, a page at a time by byte offset.");

        return group;
    }
}
