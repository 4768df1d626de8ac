using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Health;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Client;

/// <summary>
/// A typed client of one box. Failures come back as <see cref="BoxException"/> with the server's error code,
/// so callers handle the same typed errors whether they run in-process or across the network.
/// </summary>
public sealed partial class BoxClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates a client over an <see cref="HttpClient"/> whose <c>BaseAddress</c> is the box's root.</summary>
    public BoxClient(HttpClient http, string? apiKey = null, bool ownsHttpClient = false)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _ownsHttp = ownsHttpClient;
        if (!string.IsNullOrEmpty(apiKey))
        {
            _http.DefaultRequestHeaders.Remove("X-API-Key");
            _http.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        }
    }

    /// <summary>Creates a client for the box at <paramref name="baseAddress"/>.</summary>
    public BoxClient(Uri baseAddress, string? apiKey = null)
        : this(new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan }, apiKey, ownsHttpClient: true)
    {
    }

    /// <summary>Creates a client for a box that listens on a unix socket (the box inside a sandbox).</summary>
    public static BoxClient ForUnixSocket(string socketPath, string? apiKey = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new BoxClient(new HttpClient(handler) { BaseAddress = new Uri("http://box/"), Timeout = Timeout.InfiniteTimeSpan }, apiKey, ownsHttpClient: true);
    }

    /// <summary>The underlying HTTP client, for routes this client does not wrap.</summary>
    public HttpClient Http => _http;

    /// <summary><c>GET /health</c>.</summary>
    public Task<HealthResult> HealthAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync("health", BoxJsonContext.Default.HealthResult, cancellationToken);

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<T> GetJsonAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, type, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TResponse> SendJsonAsync<TRequest, TResponse>(HttpMethod method, string path, TRequest body,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body, requestType) };
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, responseType, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var value = await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false);
        return value ?? throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.Internal, "The box answered with an empty body.");
    }

    /// <summary>Turns a problem response into the <see cref="BoxException"/> the server raised.</summary>
    internal static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        BoxProblem? problem = null;
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                problem = await response.Content.ReadFromJsonAsync(BoxJsonContext.Default.BoxProblem, cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException)
            {
                problem = null;
            }
        }

        var kind = response.StatusCode switch
        {
            HttpStatusCode.BadRequest => BoxErrorKind.InvalidArgument,
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => BoxErrorKind.Forbidden,
            HttpStatusCode.NotFound => BoxErrorKind.NotFound,
            HttpStatusCode.Conflict => BoxErrorKind.Conflict,
            HttpStatusCode.RequestEntityTooLarge => BoxErrorKind.TooLarge,
            HttpStatusCode.TooManyRequests => BoxErrorKind.LimitReached,
            _ => BoxErrorKind.Unavailable,
        };
        var error = new BoxException(kind, problem?.Code ?? $"http_{(int)response.StatusCode}",
            problem?.Detail ?? $"The box answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        error.Details["status"] = (int)response.StatusCode;
        if (problem?.Extensions is { } extensions)
        {
            foreach (var (key, value) in extensions)
            {
                error.Details[key] = value;
            }
        }

        throw error;
    }

    private static string Query(string path, params (string Name, string? Value)[] parameters)
    {
        var parts = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}");
        var query = string.Join('&', parts);
        return query.Length == 0 ? path : $"{path}?{query}";
    }

    /// <summary>Sends a request that answers with server-sent events and yields them as they arrive.</summary>
    private async IAsyncEnumerable<SseItem<string>> StreamEventsAsync(HttpRequestMessage message,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        message.Headers.Accept.Add(EventStream);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var item in SseParser.Create(stream, DecodeSseData).EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    /// <summary>Output events carry their chunk as a JSON string (so carriage returns survive SSE); other events carry JSON documents, passed on as text.</summary>
    private static string DecodeSseData(string eventType, ReadOnlySpan<byte> data) =>
        eventType is "stdout" or "stderr" or "eof"
            ? JsonSerializer.Deserialize(data, BoxJsonContext.Default.String) ?? ""
            : System.Text.Encoding.UTF8.GetString(data);

    private static MediaTypeWithQualityHeaderValue EventStream { get; } = new("text/event-stream");
}
