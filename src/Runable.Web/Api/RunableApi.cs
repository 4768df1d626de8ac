using System.Globalization;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Runable.Box.Client;

namespace Runable.Web.Api;

/// <summary>
/// The orchestrator's API as the UI calls it: every call carries the signed-in key, so the orchestrator checks the key,
/// its scopes and its tenant on each one, exactly as for any other client. A refused key is an <see cref="ApiException"/>
/// with status 401.
/// </summary>
public sealed class RunableApi : IDisposable
{
    /// <summary>How long an ordinary call may take (streams and box calls have their own).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpMessageHandler _handler;
    private readonly HttpClient _http;
    private readonly string _key;

    /// <param name="handler">The connection pool to the orchestrator (not disposed with this client).</param>
    /// <param name="root">The orchestrator's address, e.g. <c>http://127.0.0.1:5100/</c>.</param>
    /// <param name="key">The signed-in key.</param>
    public RunableApi(HttpMessageHandler handler, Uri root, string key)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrEmpty(key);
        _handler = handler;
        Root = root;
        _key = key;
        _http = new HttpClient(handler, disposeHandler: false) { BaseAddress = root, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The orchestrator's address.</summary>
    public Uri Root { get; }

    public Task<JobPageView> ListJobsAsync(string? status, string? label, int limit, string? cursor, CancellationToken cancellationToken = default)
    {
        var query = new List<string> { $"limit={limit.ToString(CultureInfo.InvariantCulture)}" };
        AddQuery(query, "status", status);
        AddQuery(query, "label", label);
        AddQuery(query, "cursor", cursor);
        return SendAsync(HttpMethod.Get, "v1/jobs?" + string.Join('&', query), null, WebJsonContext.Default.JobPageView, cancellationToken);
    }

    public Task<JobView> GetJobAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"v1/jobs/{Escape(id)}", null, WebJsonContext.Default.JobView, cancellationToken);

    public Task<JobView> SubmitJobAsync(NewJobRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/jobs", JsonContent.Create(request, WebJsonContext.Default.NewJobRequest), WebJsonContext.Default.JobView, cancellationToken);

    public Task<JobView> CancelJobAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/jobs/{Escape(id)}/cancel", null, WebJsonContext.Default.JobView, cancellationToken);

    public Task<JobEventView> MessageAsync(string id, string text, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/jobs/{Escape(id)}/messages", JsonContent.Create(new MessageRequest(text), WebJsonContext.Default.MessageRequest),
            WebJsonContext.Default.JobEventView, cancellationToken);

    /// <summary>The job's events after <paramref name="after"/>, as one JSON page (at most 1000).</summary>
    public Task<List<JobEventView>> EventsAsync(string id, long after, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"v1/jobs/{Escape(id)}/events?after={after.ToString(CultureInfo.InvariantCulture)}", null,
            WebJsonContext.Default.ListJobEventView, cancellationToken);

    /// <summary>
    /// One live stream of the job's events after <paramref name="after"/> (sent as <c>Last-Event-ID</c>). It ends when the
    /// job is final and its last event was sent; a dropped connection surfaces as an exception, to be resumed by the caller.
    /// </summary>
    public async IAsyncEnumerable<JobEventView> FollowEventsAsync(string id, long after, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/jobs/{Escape(id)}/events");
        request.Headers.Add("X-API-Key", _key);
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("Last-Event-ID", after.ToString(CultureInfo.InvariantCulture));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var item in SseParser.Create(stream, (_, data) => data.ToArray()).EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            var e = JsonSerializer.Deserialize(item.Data, WebJsonContext.Default.JobEventView);
            if (e is not null)
            {
                yield return e;
            }
        }
    }

    public Task<List<ArtifactView>> ArtifactsAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"v1/jobs/{Escape(id)}/artifacts", null, WebJsonContext.Default.ListArtifactView, cancellationToken);

    /// <summary>The text of one of a job's artifacts (the diff), at most <paramref name="maxBytes"/> of it.</summary>
    public async Task<(string Text, bool Cut)> ArtifactTextAsync(string id, string name, int maxBytes, CancellationToken cancellationToken = default)
    {
        using var timeout = Deadline(cancellationToken);
        using var request = Request(HttpMethod.Get, $"v1/jobs/{Escape(id)}/artifacts/{Escape(name)}", null);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        await EnsureSuccessAsync(response, timeout.Token).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        var buffer = new byte[maxBytes + 1];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), timeout.Token).ConfigureAwait(false) is var n and > 0)
        {
            read += n;
        }

        var cut = read > maxBytes;
        return (System.Text.Encoding.UTF8.GetString(buffer, 0, Math.Min(read, maxBytes)), cut);
    }

    public Task<List<SandboxView>> ListSandboxesAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/sandboxes", null, WebJsonContext.Default.ListSandboxView, cancellationToken);

    public Task<SandboxView> GetSandboxAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"v1/sandboxes/{Escape(id)}", null, WebJsonContext.Default.SandboxView, cancellationToken);

    public Task<SandboxView> CreateSandboxAsync(NewSandboxRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/sandboxes", JsonContent.Create(request, WebJsonContext.Default.NewSandboxRequest), WebJsonContext.Default.SandboxView,
            cancellationToken);

    public Task DeleteSandboxAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync<object>(HttpMethod.Delete, $"v1/sandboxes/{Escape(id)}", null, null, cancellationToken);

    public Task<List<KeyView>> ListKeysAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/keys", null, WebJsonContext.Default.ListKeyView, cancellationToken);

    public Task<CreatedKeyView> CreateKeyAsync(NewKeyRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/keys", JsonContent.Create(request, WebJsonContext.Default.NewKeyRequest), WebJsonContext.Default.CreatedKeyView,
            cancellationToken);

    public Task RevokeKeyAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync<object>(HttpMethod.Delete, $"v1/keys/{Escape(id)}", null, null, cancellationToken);

    /// <summary>
    /// A client of a box through the orchestrator's proxy (<c>v1/jobs/{id}/box/</c> or <c>v1/sandboxes/{id}/box/</c>), with
    /// this key; dispose it after use.
    /// </summary>
    public BoxClient Box(string boxPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(boxPath);
        var http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = new Uri(Root, boxPath.TrimStart('/')), Timeout = CallTimeout };
        return new BoxClient(http, _key, ownsHttpClient: true);
    }

    public void Dispose() => _http.Dispose();

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T>? type, CancellationToken cancellationToken)
    {
        using var timeout = Deadline(cancellationToken);
        using var request = Request(method, path, content);
        using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        await EnsureSuccessAsync(response, timeout.Token).ConfigureAwait(false);
        if (type is null)
        {
            return default!;
        }

        return await response.Content.ReadFromJsonAsync(type, timeout.Token).ConfigureAwait(false)
            ?? throw new ApiException((int)response.StatusCode, "empty_answer", $"The orchestrator answered {path} with nothing.");
    }

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("X-API-Key", _key);
        return request;
    }

    private static CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        return timeout;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        ProblemView? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync(WebJsonContext.Default.ProblemView, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            // Not a problem document (a proxy's page): the status alone says what happened.
        }

        var status = (int)response.StatusCode;
        throw new ApiException(status, problem?.Code ?? $"http_{status}", problem?.Detail ?? $"The orchestrator answered {status} {response.ReasonPhrase}.");
    }

    private static void AddQuery(List<string> query, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            query.Add($"{name}={Uri.EscapeDataString(value)}");
        }
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);
}
