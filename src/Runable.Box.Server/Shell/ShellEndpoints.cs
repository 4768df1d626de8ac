using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Runable.Box.Server.Processes;
using Runable.Box.Protocol.Serialization;
using Runable.Box.Protocol.Shell;
using Runable.Box.Shell;

namespace Runable.Box.Server.Shell;

/// <summary>Maps <c>/shell/exec</c> and <c>/shell/sessions</c> onto <see cref="ShellService"/>.</summary>
public static class ShellEndpoints
{
    public static RouteGroupBuilder MapShellEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/shell").WithTags("Shell");

        group.MapPost("/exec", async Task<IResult> (ShellExecRequest request, HttpContext context, ShellService shell) =>
            {
                var command = await shell.StartAsync(request, context.RequestAborted);
                if (WantsEventStream(context.Request))
                {
                    return TypedResults.ServerSentEvents(StreamAsync(shell, command, context.RequestAborted));
                }

                return TypedResults.Ok(await shell.WaitAsync(command, context.RequestAborted));
            })
            .WithSummary("Run a command with bash -c, or in a persistent session.")
            .WithDescription("When timeout_s passes the output so far is returned with timed_out: true; with on_timeout 'background' the command keeps running as process_id, with 'kill' its process group is killed. Send 'Accept: text/event-stream' to stream stdout/stderr events (data: the chunk as a JSON string) and a final exit event (data: the JSON result).")
            .Produces<ShellExecResult>()
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");

        group.MapPost("/sessions", (ShellSessionRequest? request, ShellService shell) =>
                TypedResults.Created($"/shell/sessions", shell.CreateSession(request)))
            .WithSummary("Open a persistent shell session (cd, export and shell variables persist between commands).");

        group.MapGet("/sessions", (ShellService shell) => TypedResults.Ok(shell.ListSessions()))
            .WithSummary("List the open shell sessions.");

        group.MapDelete("/sessions/{sessionId}", (string sessionId, ShellService shell) =>
            {
                shell.DeleteSession(sessionId);
                return TypedResults.NoContent();
            })
            .WithSummary("Close a session, killing its shell and what runs in it.");

        return group;
    }

    internal static bool WantsEventStream(HttpRequest request) =>
        request.Headers.Accept.Any(a => a is not null && a.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase));

    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(ShellService shell, ShellCommand command,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var process = command.Process;
        var wait = shell.WaitAsync(command, cancellationToken);
        var stdout = new SpoolFollower(process.Stdout);
        var stderr = new SpoolFollower(process.Stderr);
        while (true)
        {
            var finished = wait.IsCompleted;
            foreach (var chunk in stdout.ReadAvailable())
            {
                yield return new SseItem<string>(SseText.Encode(chunk), "stdout");
            }

            foreach (var chunk in stderr.ReadAvailable())
            {
                yield return new SseItem<string>(SseText.Encode(chunk), "stderr");
            }

            if (finished)
            {
                var result = await wait;
                yield return new SseItem<string>(JsonSerializer.Serialize(result, BoxJsonContext.Default.ShellExecResult), "exit");
                yield break;
            }

            await Task.WhenAny(wait, stdout.WaitAsync(cancellationToken), stderr.WaitAsync(cancellationToken));
        }
    }
}
