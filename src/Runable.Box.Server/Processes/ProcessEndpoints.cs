using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using Runable.Box.Processes;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Processes;
using Runable.Box.Server.Shell;

namespace Runable.Box.Server.Processes;

/// <summary>Maps <c>/processes</c> onto the <see cref="ProcessSupervisor"/>.</summary>
public static class ProcessEndpoints
{
    public static RouteGroupBuilder MapProcessEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/processes").WithTags("Processes");

        group.MapPost("/", (ProcessStartRequest request, ProcessSupervisor supervisor) =>
            {
                var process = supervisor.Start(request.Command, request.Cwd, request.Env);
                return TypedResults.Created($"/processes/{process.Id}", new ProcessStarted { ProcessId = process.Id, Pid = process.Pid });
            })
            .WithSummary("Start a command in the background (bash -c); its output is spooled and it stays listed after the caller disconnects.");

        group.MapGet("/", (ProcessSupervisor supervisor) => TypedResults.Ok(supervisor.List()))
            .WithSummary("List the processes the box tracks, running and recently exited.");

        group.MapGet("/{processId}", (string processId, ProcessSupervisor supervisor) => TypedResults.Ok(supervisor.Get(processId).ToInfo()))
            .WithSummary("A process's status, exit code and output sizes.");

        group.MapGet("/{processId}/output", async Task<IResult> (string processId, HttpContext context, ProcessSupervisor supervisor,
                string? stream, long? offset, int? limit, bool? follow, string? encoding) =>
            {
                var base64 = encoding switch
                {
                    null or "" or "utf-8" or "utf8" => false,
                    "base64" => true,
                    _ => throw BoxException.InvalidArgument("encoding must be 'utf-8' or 'base64'."),
                };
                if (follow == true && ShellEndpoints.WantsEventStream(context.Request))
                {
                    var process = supervisor.Get(processId);
                    var spool = process.Stream(stream);
                    return TypedResults.ServerSentEvents(FollowAsync(spool, stream ?? "stdout", offset ?? 0, context.RequestAborted));
                }

                return TypedResults.Ok(supervisor.ReadOutput(processId, stream, offset ?? 0, limit ?? 65536, base64));
            })
            .WithSummary("A page of a process's output by byte offset; with follow=true and 'Accept: text/event-stream', a live stream.")
            .Produces<ProcessOutput>();

        group.MapPost("/{processId}/stdin", async (string processId, ProcessStdinRequest request, ProcessSupervisor supervisor, CancellationToken cancellationToken) =>
            {
                var process = supervisor.Get(processId);
                await process.WriteStdinAsync(Encoding.UTF8.GetBytes(request.Data ?? ""), request.Close ?? false, cancellationToken);
                return TypedResults.Ok(process.ToInfo());
            })
            .WithSummary("Write to a process's standard input (close: true sends end of file).");

        group.MapPost("/{processId}/signal", (string processId, ProcessSignalRequest request, ProcessSupervisor supervisor) =>
            {
                var signal = ProcessSignals.Parse(request.Signal);
                var process = supervisor.Get(processId);
                process.Signal(signal);
                return TypedResults.Ok(process.ToInfo());
            })
            .WithSummary("Send a signal to a process's whole process group.");

        group.MapDelete("/{processId}", (string processId, ProcessSupervisor supervisor) =>
            {
                supervisor.Forget(supervisor.Get(processId));
                return TypedResults.NoContent();
            })
            .WithSummary("Kill a process's group if it still runs, and forget it and its output.");

        return group;
    }

    private static async IAsyncEnumerable<SseItem<string>> FollowAsync(OutputSpool spool, string stream, long offset,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var follower = new SpoolFollower(spool, offset);
        while (true)
        {
            foreach (var chunk in follower.ReadAvailable())
            {
                yield return new SseItem<string>(SseText.Encode(chunk), stream) { EventId = follower.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            }

            if (follower.AtEnd)
            {
                yield return new SseItem<string>(SseText.Encode(""), "eof") { EventId = follower.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                yield break;
            }

            await follower.WaitAsync(cancellationToken);
        }
    }
}
