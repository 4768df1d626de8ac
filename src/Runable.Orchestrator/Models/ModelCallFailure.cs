using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Anthropic.Exceptions;

namespace Runable.Orchestrator.Models;

/// <summary>What a failed model call says about retrying it: the HTTP status if there was one, and the server's <c>Retry-After</c>.</summary>
public readonly record struct ModelCallFailure(bool IsTransient, int? Status, TimeSpan? RetryAfter, string Reason)
{
    /// <summary>
    /// Classifies an exception from any provider's client. Transient: HTTP 408, 429 and 5xx (but 501), network errors
    /// and timeouts. Not transient: every other status, a cancellation the caller asked for, and anything unrecognised.
    /// </summary>
    public static ModelCallFailure Classify(Exception exception, CancellationToken cancellationToken, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (cancellationToken.IsCancellationRequested)
        {
            return new(false, null, null, "cancelled");
        }

        switch (exception)
        {
            case ClientResultException { Status: > 0 } e:
                return FromStatus(e.Status, RetryAfterOf(e, time));
            case AnthropicApiException e:
                return FromStatus((int)e.StatusCode, null);
            case HttpRequestException { StatusCode: { } status }:
                return FromStatus((int)status, null);
            case AnthropicSseException e:
                // An error event inside a stream: the HTTP status was 200, the event's type names the real failure.
                var type = e.Type?.Raw();
                var transient = type is "overloaded_error" or "rate_limit_error" or "api_error" or "timeout_error";
                return new(transient, null, null, $"stream error {type ?? "of unknown type"}");
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException or IOException or SocketException or AnthropicIOException:
                    return new(true, null, null, $"network error ({e.GetType().Name})");
                case TimeoutException or OperationCanceledException:
                    // The caller's token is not cancelled (see above), so this is a client-side timeout.
                    return new(true, null, null, "timeout");
            }
        }

        return new(false, null, null, exception.GetType().Name);
    }

    /// <summary>Parses <c>retry-after-ms</c> or <c>Retry-After</c> (seconds or an HTTP date); null when absent or unreadable.</summary>
    public static TimeSpan? ParseRetryAfter(string? retryAfterMs, string? retryAfter, DateTimeOffset now)
    {
        if (double.TryParse(retryAfterMs, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        if (string.IsNullOrWhiteSpace(retryAfter))
        {
            return null;
        }

        if (double.TryParse(retryAfter, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(retryAfter, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            ? (date > now ? date - now : TimeSpan.Zero)
            : null;
    }

    private static ModelCallFailure FromStatus(int status, TimeSpan? retryAfter)
    {
        var transient = status is (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests
                        || (status >= 500 && status != (int)HttpStatusCode.NotImplemented);
        return new(transient, status, retryAfter, $"HTTP {status}");
    }

    private static TimeSpan? RetryAfterOf(ClientResultException exception, TimeProvider time)
    {
        var headers = exception.GetRawResponse()?.Headers;
        if (headers is null)
        {
            return null;
        }

        headers.TryGetValue("retry-after-ms", out var ms);
        headers.TryGetValue("Retry-After", out var value);
        return ParseRetryAfter(ms, value, time.GetUtcNow());
    }
}
