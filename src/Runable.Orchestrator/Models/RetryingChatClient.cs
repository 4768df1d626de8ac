using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Runable.Orchestrator.Models;

/// <summary>
/// Retries transient model failures (HTTP 408, 429, 5xx, network errors, timeouts) with exponential backoff and full
/// jitter, or the server's <c>Retry-After</c> (capped). Other failures, and the last attempt's, surface as thrown.
/// A stream is retried only while it has yielded nothing: a retry after that would repeat output the caller has seen.
/// </summary>
public sealed partial class RetryingChatClient : DelegatingChatClient
{
    private readonly ModelRetryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;

    /// <summary>Wraps <paramref name="innerClient"/>; waits through <paramref name="time"/> so tests can control the clock.</summary>
    public RetryingChatClient(IChatClient innerClient, ModelRetryOptions options, TimeProvider? time = null, ILogger? logger = null,
        Random? random = null)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1);
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _random = random ?? Random.Shared;
    }

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var history = messages as IReadOnlyCollection<ChatMessage> ?? messages.ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await base.GetResponseAsync(history, options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (ShouldRetry(e, attempt, cancellationToken, out var delay))
            {
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var history = messages as IReadOnlyCollection<ChatMessage> ?? messages.ToList();
        IAsyncEnumerator<ChatResponseUpdate>? stream = null;
        var hasFirst = false;
        for (var attempt = 1; stream is null; attempt++)
        {
            IAsyncEnumerator<ChatResponseUpdate>? candidate = null;
            try
            {
                candidate = base.GetStreamingResponseAsync(history, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
                hasFirst = await candidate.MoveNextAsync().ConfigureAwait(false);
                stream = candidate;
            }
            catch (Exception e) when (ShouldRetry(e, attempt, cancellationToken, out var delay))
            {
                await DisposeQuietlyAsync(candidate).ConfigureAwait(false);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await DisposeQuietlyAsync(candidate).ConfigureAwait(false);
                throw;
            }
        }

        try
        {
            if (!hasFirst)
            {
                yield break;
            }

            yield return stream.Current;
            while (await stream.MoveNextAsync().ConfigureAwait(false))
            {
                yield return stream.Current;
            }
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The wait before attempt <paramref name="failedAttempt"/> + 1: the capped <c>Retry-After</c>, else full-jitter backoff.</summary>
    internal TimeSpan DelayAfter(int failedAttempt, TimeSpan? retryAfter)
    {
        if (retryAfter is { } serverSays)
        {
            return serverSays < _options.MaxRetryAfter ? serverSays : _options.MaxRetryAfter;
        }

        var ceiling = _options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failedAttempt - 1, 30));
        ceiling = Math.Min(ceiling, _options.MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(_random.NextDouble() * ceiling);
    }

    private static async ValueTask DisposeQuietlyAsync(IAsyncEnumerator<ChatResponseUpdate>? stream)
    {
        if (stream is null)
        {
            return;
        }

        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            // A failed stream may fail again while closing; the failure being handled is the one that matters.
        }
    }

    private bool ShouldRetry(Exception exception, int attempt, CancellationToken cancellationToken, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        var failure = ModelCallFailure.Classify(exception, cancellationToken, _time);
        if (!failure.IsTransient)
        {
            return false;
        }

        if (attempt >= _options.MaxAttempts)
        {
            LogGaveUp(_logger, failure.Reason, attempt);
            return false;
        }

        delay = DelayAfter(attempt, failure.RetryAfter);
        LogRetrying(_logger, failure.Reason, attempt, _options.MaxAttempts, (long)delay.TotalMilliseconds);
        return true;
    }

    // Only the status or error kind is logged: a provider's message can echo request content.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Model call failed ({Reason}) on attempt {Attempt} of {MaxAttempts}; retrying in {DelayMs} ms")]
    private static partial void LogRetrying(ILogger logger, string reason, int attempt, int maxAttempts, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model call failed ({Reason}) on attempt {Attempt}, the last; giving up")]
    private static partial void LogGaveUp(ILogger logger, string reason, int attempt);
}
