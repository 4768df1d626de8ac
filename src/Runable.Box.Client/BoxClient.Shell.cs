using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Runable.Box.Protocol.Serialization;
using Runable.Box.Protocol.Shell;

namespace Runable.Box.Client;

public sealed partial class BoxClient
{
    /// <summary><c>POST /shell/exec</c>: runs a command and returns when it ends or its timeout passes.</summary>
    public Task<ShellExecResult> ExecAsync(ShellExecRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "shell/exec", request, BoxJsonContext.Default.ShellExecRequest,
            BoxJsonContext.Default.ShellExecResult, cancellationToken);

    /// <summary><c>POST /shell/exec</c> with a command line and defaults for the rest.</summary>
    public Task<ShellExecResult> ExecAsync(string command, double? timeoutSeconds = null, string? sessionId = null,
        CancellationToken cancellationToken = default) =>
        ExecAsync(new ShellExecRequest { Command = command, TimeoutS = timeoutSeconds, SessionId = sessionId }, cancellationToken);

    /// <summary><c>POST /shell/exec</c> as a server-sent event stream: <c>stdout</c> and <c>stderr</c> chunks, then one <c>exit</c> with the result.</summary>
    public async IAsyncEnumerable<SseItem<string>> ExecStreamAsync(ShellExecRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "shell/exec")
        {
            Content = JsonContent.Create(request, BoxJsonContext.Default.ShellExecRequest),
        };
        await foreach (var item in StreamEventsAsync(message, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    /// <summary><c>POST /shell/sessions</c>: opens a persistent shell session.</summary>
    public Task<ShellSessionInfo> CreateSessionAsync(ShellSessionRequest? request = null, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "shell/sessions", request ?? new ShellSessionRequest(), BoxJsonContext.Default.ShellSessionRequest,
            BoxJsonContext.Default.ShellSessionInfo, cancellationToken);

    /// <summary><c>GET /shell/sessions</c>.</summary>
    public Task<List<ShellSessionInfo>> ListSessionsAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync("shell/sessions", BoxJsonContext.Default.ListShellSessionInfo, cancellationToken);

    /// <summary><c>DELETE /shell/sessions/{id}</c>: closes a session and kills what runs in it.</summary>
    public Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"shell/sessions/{Uri.EscapeDataString(sessionId)}"), cancellationToken);
}
