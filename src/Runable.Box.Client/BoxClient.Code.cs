using Runable.Box.Protocol.Code;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Client;

public sealed partial class BoxClient
{
    /// <summary><c>POST /code/exec</c>: runs code in a persistent kernel.</summary>
    public Task<CodeExecResult> ExecCodeAsync(CodeExecRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "code/exec", request, BoxJsonContext.Default.CodeExecRequest, BoxJsonContext.Default.CodeExecResult, cancellationToken);

    /// <summary><c>POST /code/exec</c> in <paramref name="language"/>'s default context, or in <paramref name="contextId"/>.</summary>
    public Task<CodeExecResult> ExecCodeAsync(string code, string language = "python", string? contextId = null, double? timeoutSeconds = null,
        CancellationToken cancellationToken = default) =>
        ExecCodeAsync(new CodeExecRequest { Code = code, Language = language, ContextId = contextId, TimeoutS = timeoutSeconds }, cancellationToken);

    /// <summary><c>GET /code/outputs/{id}</c>: a page of the whole output of a call whose reply was cut.</summary>
    public Task<Protocol.Processes.ProcessOutput> ReadCodeOutputAsync(string outputId, string stream = "stdout", long offset = 0, int limit = 65536,
        CancellationToken cancellationToken = default) =>
        GetJsonAsync(Query($"code/outputs/{Uri.EscapeDataString(outputId)}", ("stream", stream),
                ("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("limit", limit.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            BoxJsonContext.Default.ProcessOutput, cancellationToken);

    /// <summary><c>POST /code/contexts</c>.</summary>
    public Task<CodeContextInfo> CreateContextAsync(string language = "python", string? cwd = null, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "code/contexts", new CodeContextRequest { Language = language, Cwd = cwd }, BoxJsonContext.Default.CodeContextRequest,
            BoxJsonContext.Default.CodeContextInfo, cancellationToken);

    /// <summary><c>GET /code/contexts</c>.</summary>
    public Task<List<CodeContextInfo>> ListContextsAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync("code/contexts", BoxJsonContext.Default.ListCodeContextInfo, cancellationToken);

    /// <summary><c>POST /code/contexts/{id}/interrupt</c>.</summary>
    public Task<CodeContextInfo> InterruptContextAsync(string contextId, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, $"code/contexts/{Uri.EscapeDataString(contextId)}/interrupt", new CodeContextRequest(),
            BoxJsonContext.Default.CodeContextRequest, BoxJsonContext.Default.CodeContextInfo, cancellationToken);

    /// <summary><c>POST /code/contexts/{id}/restart</c>: a fresh kernel, all state lost.</summary>
    public Task<CodeContextInfo> RestartContextAsync(string contextId, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, $"code/contexts/{Uri.EscapeDataString(contextId)}/restart", new CodeContextRequest(),
            BoxJsonContext.Default.CodeContextRequest, BoxJsonContext.Default.CodeContextInfo, cancellationToken);

    /// <summary><c>DELETE /code/contexts/{id}</c>.</summary>
    public Task DeleteContextAsync(string contextId, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"code/contexts/{Uri.EscapeDataString(contextId)}"), cancellationToken);
}
