using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runable.Box.Client;
using Runable.Box.Protocol;

namespace Runable.Cli.Remote;

/// <summary>The <c>--server</c> and <c>--key</c> options of every command that talks to a running orchestrator.</summary>
public sealed class RemoteOptions
{
    /// <summary>The orchestrator's URL.</summary>
    public Option<string?> Server { get; } = new("--server")
    {
        Description = $"URL of the orchestrator [default: $RUNABLE_SERVER, else {OrchestratorConnection.DefaultServer}].",
        HelpName = "URL",
    };

    /// <summary>The API key sent as <c>X-API-Key</c>.</summary>
    public Option<string?> Key { get; } = new("--key", "--api-key")
    {
        Description = "API key [default: $RUNABLE_API_KEY, else $AGENT_API_KEY, else the file .runable/admin.key].",
        HelpName = "KEY",
    };

    /// <summary>Adds both options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Server);
        command.Options.Add(Key);
    }
}

/// <summary>A failure the orchestrator reported as <c>application/problem+json</c> (or an answer that was not one).</summary>
public sealed class RemoteProblemException(string code, string detail) : Exception(detail)
{
    /// <summary>The problem's stable <c>code</c>, such as <c>unauthorized</c> or <c>not_found</c>.</summary>
    public string Code { get; } = code;
}

/// <summary>
/// A running orchestrator as the CLI reaches it: its address, the caller's key, JSON requests whose failures become
/// <see cref="RemoteProblemException"/>, and the box proxy of a sandbox.
/// </summary>
public sealed class OrchestratorConnection : IDisposable
{
    /// <summary>Where <c>runable serve</c> listens by default.</summary>
    public const string DefaultServer = "http://127.0.0.1:5100";

    private readonly HttpClient _http;

    private OrchestratorConnection(Uri server, string? key)
    {
        Server = server;
        Key = key;
        _http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromMinutes(5) };
        if (key is not null)
        {
            _http.DefaultRequestHeaders.Add("X-API-Key", key);
        }
    }

    /// <summary>The orchestrator's root URL, ending in a slash.</summary>
    public Uri Server { get; }

    /// <summary>The key sent with every request; null when none was found.</summary>
    public string? Key { get; }

    /// <summary>The server to use: the option, else <c>RUNABLE_SERVER</c>, else <see cref="DefaultServer"/>.</summary>
    public static string ResolveServer(string? option, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new[] { option, environment("RUNABLE_SERVER") }.FirstOrDefault(s => !string.IsNullOrWhiteSpace(s)) ?? DefaultServer;
    }

    /// <summary>The key to send: the option, else <c>RUNABLE_API_KEY</c>, else <c>AGENT_API_KEY</c>, else the
    /// first line of <c>.runable/admin.key</c> under <paramref name="directory"/>; null when there is none.</summary>
    public static string? ResolveKey(string? option, Func<string, string?> environment, string directory)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var key = new[] { option, environment("RUNABLE_API_KEY"), environment("AGENT_API_KEY") }.FirstOrDefault(k => !string.IsNullOrWhiteSpace(k));
        var file = Path.Combine(directory, ".runable", "admin.key");
        if (key is null && File.Exists(file))
        {
            key = File.ReadLines(file).FirstOrDefault()?.Trim();
        }

        return string.IsNullOrEmpty(key) ? null : key.Trim();
    }

    /// <summary>
    /// Resolves the connection from <paramref name="options"/> and runs <paramref name="action"/> with it. Problems,
    /// an unreachable server and a bad <c>--server</c> are printed as one <c>error:</c> line; the exit code is then 1
    /// (2 for a bad URL).
    /// </summary>
    public static async Task<int> RunAsync(ParseResult parseResult, RemoteOptions options, Func<string, string?> environment,
        Func<OrchestratorConnection, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(action);
        var error = parseResult.InvocationConfiguration.Error;
        var server = ResolveServer(parseResult.GetValue(options.Server), environment);
        if (!Uri.TryCreate(server.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"error: the server URL '{server}' is not an http:// or https:// URL, such as {DefaultServer}.");
            return 2;
        }

        using var connection = new OrchestratorConnection(uri, ResolveKey(parseResult.GetValue(options.Key), environment, Environment.CurrentDirectory));
        try
        {
            return await action(connection, cancellationToken);
        }
        catch (Exception e) when (connection.Describe(e) is { } message)
        {
            await error.WriteLineAsync(message);
            return 1;
        }
    }

    /// <summary>The line to print for a failure this class knows how to explain; null for anything else.</summary>
    public string? Describe(Exception exception)
    {
        var (code, detail) = exception switch
        {
            RemoteProblemException p => (p.Code, p.Message),
            BoxException b => (b.Code, b.Message),
            _ => ((string?)null, (string?)null),
        };
        if (code is not null)
        {
            var hint = code == "unauthorized"
                ? $"\nhint: {(Key is null ? "no key was found; " : "")}pass one with --key KEY or RUNABLE_API_KEY (./run keeps the admin key in .runable/admin.key)."
                : "";
            return $"error: {detail} ({code}){hint}";
        }

        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } refused)
            {
                return $"error: cannot connect to the orchestrator at {Server} ({refused.Message}). Start it with ./run or " +
                    "runable serve, or point --server (or RUNABLE_SERVER) at a running one.";
            }
        }

        return exception switch
        {
            HttpRequestException or WebSocketException => $"error: the orchestrator at {Server} could not be reached: {exception.Message}",
            TaskCanceledException when exception.InnerException is TimeoutException => $"error: the orchestrator at {Server} did not answer in time.",
            _ => null,
        };
    }

    /// <summary>
    /// Does <paramref name="act"/> for each id, printing the line it returns, or the problem when the orchestrator
    /// refused; 0 when every one succeeded, 1 otherwise (the others are still done).
    /// </summary>
    public async Task<int> ForEachAsync(IEnumerable<string> ids, Func<string, Task<string>> act, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(act);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var exitCode = 0;
        foreach (var id in ids)
        {
            try
            {
                await output.WriteLineAsync(await act(id));
            }
            catch (RemoteProblemException e)
            {
                await error.WriteLineAsync(Describe(e));
                exitCode = 1;
            }
        }

        return exitCode;
    }

    /// <summary>Sends a request with an optional JSON body and returns the response's body text (empty for 204).</summary>
    public Task<string> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken) =>
        SendAsync(method, path, body, null, cancellationToken);

    /// <summary>As <see cref="SendAsync(HttpMethod, string, JsonNode?, CancellationToken)"/>, with an <c>Idempotency-Key</c>
    /// header when <paramref name="idempotencyKey"/> is given (a retried submit then makes no second job).</summary>
    public async Task<string> SendAsync(HttpMethod method, string path, JsonNode? body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        }

        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return text;
        }

        throw Problem(response, text);
    }

    /// <summary>The problem a failed response describes (or its status when it describes none).</summary>
    private static RemoteProblemException Problem(HttpResponseMessage response, string text)
    {
        var status = (int)response.StatusCode;
        string? code = null, detail = null;
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                var problem = JsonNode.Parse(text);
                code = problem?["code"]?.GetValue<string>();
                detail = problem?["detail"]?.GetValue<string>();
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
            }
        }

        return new RemoteProblemException(code ?? $"http_{status}", detail ?? $"The orchestrator answered {status} {response.ReasonPhrase}.");
    }

    /// <summary>
    /// Posts the file at <paramref name="path"/> as a body of <paramref name="contentType"/> and returns the response's
    /// text; <paramref name="progress"/> hears the bytes sent so far.
    /// </summary>
    public async Task<string> PostFileAsync(string path, string relativeUri, string contentType, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        using var request = new HttpRequestMessage(HttpMethod.Post, relativeUri) { Content = new ProgressContent(file, progress) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Content.Headers.ContentLength = file.Length;
        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? text : throw Problem(response, text);
    }

    /// <summary>
    /// Saves what <paramref name="relativeUri"/> answers into <paramref name="destination"/> (written whole or not at
    /// all); <paramref name="progress"/> hears the bytes received so far. Returns the bytes written.
    /// </summary>
    public async Task<long> DownloadAsync(string relativeUri, string destination, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(relativeUri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw Problem(response, await response.Content.ReadAsStringAsync(cancellationToken));
        }

        var partial = destination + ".part";
        long total = 0;
        try
        {
            await using (var source = await response.Content.ReadAsStreamAsync(cancellationToken))
            await using (var target = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    total += read;
                    progress?.Report(total);
                }
            }

            File.Move(partial, destination, overwrite: true);
            return total;
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>
    /// A job's events after <paramref name="after"/> as they come (SSE), until the job's last one; a dropped
    /// connection is resumed from the last event received (<c>Last-Event-ID</c>), so none is missed or repeated.
    /// </summary>
    public async IAsyncEnumerable<System.Net.ServerSentEvents.SseItem<string>> FollowEventsAsync(string jobId, long after,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var last = after;
        for (var failures = 0; ; )
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/jobs/{Uri.EscapeDataString(jobId)}/events");
            request.Headers.Accept.ParseAdd("text/event-stream");
            request.Headers.Add("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException) when (++failures < 10)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, failures)), cancellationToken);
                continue;
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                    throw new RemoteProblemException(problem?["code"]?.GetValue<string>() ?? $"http_{(int)response.StatusCode}",
                        problem?["detail"]?.GetValue<string>() ?? $"The orchestrator answered {(int)response.StatusCode}.");
                }

                var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                var enumerator = System.Net.ServerSentEvents.SseParser.Create(stream).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                var ended = false;
                try
                {
                    while (true)
                    {
                        try
                        {
                            if (!await enumerator.MoveNextAsync())
                            {
                                ended = true;
                                break;
                            }
                        }
                        catch (Exception e) when (e is HttpRequestException or IOException && ++failures < 10)
                        {
                            break; // dropped: resume after the last event
                        }

                        failures = 0;
                        if (long.TryParse(enumerator.Current.EventId, out var seq))
                        {
                            last = seq;
                        }

                        yield return enumerator.Current;
                    }
                }
                finally
                {
                    await enumerator.DisposeAsync();
                }

                if (ended)
                {
                    yield break;
                }
            }
        }
    }

    /// <summary>A typed client of the sandbox's box, through the orchestrator's proxy.</summary>
    public BoxClient Box(string sandboxId) => new(new Uri(Server, $"v1/sandboxes/{Uri.EscapeDataString(sandboxId)}/box/"), Key);

    /// <summary>The <c>ws://</c> (or <c>wss://</c>) URL of a path under the orchestrator.</summary>
    public Uri WebSocketUri(string path)
    {
        var builder = new UriBuilder(new Uri(Server, path)) { Scheme = Server.Scheme == "https" ? "wss" : "ws" };
        return builder.Uri;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>A request body read from a stream that reports how many bytes have been sent.</summary>
internal sealed class ProgressContent(Stream source, IProgress<long>? progress) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        long sent = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            sent += read;
            progress?.Report(sent);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = source.CanSeek ? source.Length : -1;
        return source.CanSeek;
    }
}
