using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Runable.Box.Protocol.Processes;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Client;

public sealed partial class BoxClient
{
    /// <summary><c>POST /processes</c>: starts a command in the background.</summary>
    public Task<ProcessStarted> StartProcessAsync(ProcessStartRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "processes", request, BoxJsonContext.Default.ProcessStartRequest,
            BoxJsonContext.Default.ProcessStarted, cancellationToken);

    /// <summary><c>GET /processes</c>.</summary>
    public Task<List<ProcessInfo>> ListProcessesAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync("processes", BoxJsonContext.Default.ListProcessInfo, cancellationToken);

    /// <summary><c>GET /processes/{id}</c>.</summary>
    public Task<ProcessInfo> GetProcessAsync(string processId, CancellationToken cancellationToken = default) =>
        GetJsonAsync($"processes/{Uri.EscapeDataString(processId)}", BoxJsonContext.Default.ProcessInfo, cancellationToken);

    /// <summary><c>GET /processes/{id}/output</c>: a page of output by byte offset.</summary>
    public Task<ProcessOutput> ReadOutputAsync(string processId, string stream = "stdout", long offset = 0, int limit = 65536,
        bool base64 = false, CancellationToken cancellationToken = default) =>
        GetJsonAsync(Query($"processes/{Uri.EscapeDataString(processId)}/output", ("stream", stream),
                ("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("limit", limit.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("encoding", base64 ? "base64" : null)),
            BoxJsonContext.Default.ProcessOutput, cancellationToken);

    /// <summary>Follows a process's output live from <paramref name="offset"/> until the stream ends (event <c>eof</c>).</summary>
    public async IAsyncEnumerable<SseItem<string>> FollowOutputAsync(string processId, string stream = "stdout", long offset = 0,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, Query($"processes/{Uri.EscapeDataString(processId)}/output",
            ("stream", stream), ("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("follow", "true")));
        await foreach (var item in StreamEventsAsync(message, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    /// <summary><c>POST /processes/{id}/stdin</c>.</summary>
    public Task<ProcessInfo> WriteStdinAsync(string processId, string data, bool close = false, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, $"processes/{Uri.EscapeDataString(processId)}/stdin", new ProcessStdinRequest { Data = data, Close = close },
            BoxJsonContext.Default.ProcessStdinRequest, BoxJsonContext.Default.ProcessInfo, cancellationToken);

    /// <summary><c>POST /processes/{id}/signal</c>: signals the process's whole group.</summary>
    public Task<ProcessInfo> SignalAsync(string processId, string signal, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, $"processes/{Uri.EscapeDataString(processId)}/signal", new ProcessSignalRequest { Signal = signal },
            BoxJsonContext.Default.ProcessSignalRequest, BoxJsonContext.Default.ProcessInfo, cancellationToken);

    /// <summary>Waits until a process has exited, polling its status.</summary>
    public async Task<ProcessInfo> WaitForExitAsync(string processId, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var info = await GetProcessAsync(processId, cancellationToken).ConfigureAwait(false);
            if (info.Status == ProcessStatus.Exited)
            {
                return info;
            }

            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }
}
