using System.ClientModel;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>
/// Retries through the catalog's client, over real HTTP against the scripted server: what is retried and how often,
/// the waits between attempts, streams, timeouts, cancellation, and that the key stays out of the logs.
/// </summary>
public sealed class RetryingChatClientTests : IAsyncLifetime
{
    private readonly RecordingTimeProvider _clock = new();
    private readonly CapturingLoggerProvider _logs = new();
    private ScriptedModelServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static List<ChatMessage> Hello => [new(ChatRole.User, "hello")];

    public async ValueTask InitializeAsync() => _server = await ScriptedModelServer.StartAsync(Ct);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task RateLimitThenServerError_IsRetried_HonouringRetryAfter_AndSucceeds()
    {
        using var catalog = Catalog(maxAttempts: 3);
        _server.Enqueue(ScriptedTurn.Reply("third time lucky")
            .After(ScriptedFailure.RateLimited(retryAfterSeconds: 7))
            .After(ScriptedFailure.ServerError(500)));

        var response = await catalog.Resolve().Client.GetResponseAsync(Hello, cancellationToken: Ct);

        Assert.Equal("third time lucky", response.Text);
        Assert.Equal(3, _server.Requests.Count);
        Assert.Equal(2, _clock.Waits.Count);
        Assert.Equal(TimeSpan.FromSeconds(7), _clock.Waits[0]);
        // The second wait is full jitter under a ceiling of twice the base delay.
        Assert.InRange(_clock.Waits[1], TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Contains(_logs.Lines, l => l.Contains("HTTP 429", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(ModelTestSettings.Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RetryAfter_IsCapped()
    {
        using var catalog = Catalog(maxAttempts: 2, maxRetryAfter: TimeSpan.FromSeconds(20));
        _server.Enqueue(ScriptedTurn.Reply("ok").After(ScriptedFailure.RateLimited(retryAfterSeconds: 3600)));

        Assert.Equal("ok", (await catalog.Resolve().Client.GetResponseAsync(Hello, cancellationToken: Ct)).Text);
        Assert.Equal([TimeSpan.FromSeconds(20)], _clock.Waits);
    }

    [Fact]
    public async Task AlwaysServerError_SurfacesTheError_AfterMaxAttempts()
    {
        using var catalog = Catalog(maxAttempts: 4);
        _server.Enqueue(ScriptedTurn.Reply("never").After(ScriptedFailure.ServerError(503), times: 10));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => catalog.Resolve().Client.GetResponseAsync(Hello, cancellationToken: Ct));

        Assert.Equal(503, error.Status);
        Assert.Equal(4, _server.Requests.Count);
        Assert.Equal(3, _clock.Waits.Count);
        Assert.Contains(_logs.Lines, l => l.Contains("the last; giving up", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(400)]
    [InlineData(404)]
    public async Task ClientErrors_FailAtOnce(int status)
    {
        using var catalog = Catalog(maxAttempts: 4);
        _server.Enqueue(ScriptedTurn.Reply("never").After(ScriptedFailure.WithStatus(status), times: 10));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => catalog.Resolve().Client.GetResponseAsync(Hello, cancellationToken: Ct));

        Assert.Equal(status, error.Status);
        Assert.Single(_server.Requests);
        Assert.Empty(_clock.Waits);
    }

    [Fact]
    public async Task RequestTimeout_IsRetried()
    {
        using var catalog = Catalog(maxAttempts: 3, requestTimeout: TimeSpan.FromMilliseconds(300));
        _server.Enqueue(ScriptedTurn.Reply("answered in time").After(ScriptedFailure.Stalled(TimeSpan.FromSeconds(30))));

        var response = await catalog.Resolve().Client.GetResponseAsync(Hello, cancellationToken: Ct);

        Assert.Equal("answered in time", response.Text);
        Assert.Equal(2, _server.Requests.Count);
        Assert.Contains(_logs.Lines, l => l.Contains("timeout", StringComparison.Ordinal) || l.Contains("network error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stream_DroppedConnectionThenServerError_IsRetried_BeforeAnythingWasYielded()
    {
        using var catalog = Catalog(maxAttempts: 3);
        _server.Enqueue(ScriptedTurn.Reply("streamed after all")
            .After(ScriptedFailure.Dropped())
            .After(ScriptedFailure.ServerError(502)));

        var text = "";
        await foreach (var update in catalog.Resolve().Client.GetStreamingResponseAsync(Hello, cancellationToken: Ct))
        {
            text += update.Text;
        }

        Assert.Equal("streamed after all", text);
        Assert.Equal(3, _server.Requests.Count);
        Assert.All(_server.Requests, r => Assert.True(r.Stream));
    }

    [Fact]
    public async Task Stream_CutAfterOutput_IsNotRetried_AndTheErrorSurfaces()
    {
        using var catalog = Catalog(maxAttempts: 4);
        _server.Enqueue(ScriptedTurn.Reply("this reply will be cut short").After(ScriptedFailure.DroppedMidStream()), ScriptedTurn.Reply("a repeat"));

        var received = new List<ChatResponseUpdate>();
        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in catalog.Resolve().Client.GetStreamingResponseAsync(Hello, cancellationToken: Ct))
            {
                received.Add(update);
            }
        });

        Assert.NotNull(error);
        Assert.Equal("this", string.Concat(received.Select(u => u.Text)));
        Assert.Single(_server.Requests);
        Assert.Equal(1, _server.Pending);
    }

    [Fact]
    public async Task Cancellation_DuringTheWait_StopsRetrying()
    {
        var stuck = new RecordingTimeProvider(neverFire: true);
        using var catalog = new ModelCatalog(ModelTestSettings.OpenAI(_server, maxAttempts: 5), stuck);
        _server.Enqueue(ScriptedTurn.Reply("never").After(ScriptedFailure.ServerError(), times: 10));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var call = catalog.Resolve().Client.GetResponseAsync(Hello, cancellationToken: cancel.Token);
        while (stuck.Waits.Count == 0)
        {
            await Task.Delay(10, Ct);
        }

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public void Backoff_IsFullJitterUnderADoublingCeiling_CappedAtMaxDelay()
    {
        var options = new ModelRetryOptions { BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10), MaxRetryAfter = TimeSpan.FromSeconds(30) };
        using var inner = new RetryingChatClient(new ThrowingChatClient(), options, random: new Random(7));

        for (var failed = 1; failed <= 8; failed++)
        {
            var ceiling = Math.Min(Math.Pow(2, failed - 1), 10);
            var waits = Enumerable.Range(0, 200).Select(_ => inner.DelayAfter(failed, null).TotalSeconds).ToList();
            Assert.All(waits, w => Assert.InRange(w, 0, ceiling));
            Assert.True(waits.Max() > ceiling * 0.8 && waits.Min() < ceiling * 0.2, $"waits after {failed} failures should spread over [0, {ceiling}]");
        }

        Assert.Equal(TimeSpan.FromSeconds(4), inner.DelayAfter(1, TimeSpan.FromSeconds(4)));
        Assert.Equal(TimeSpan.FromSeconds(30), inner.DelayAfter(1, TimeSpan.FromMinutes(5)));
    }

    private ModelCatalog Catalog(int maxAttempts, TimeSpan? maxRetryAfter = null, TimeSpan? requestTimeout = null)
    {
        var settings = ModelTestSettings.OpenAI(_server, maxAttempts);
        settings = settings with
        {
            Retry = settings.Retry with { MaxRetryAfter = maxRetryAfter ?? settings.Retry.MaxRetryAfter },
            RequestTimeout = requestTimeout ?? settings.RequestTimeout,
        };
        var loggers = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        return new ModelCatalog(settings, _clock, loggers);
    }

    private sealed class ThrowingChatClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("not called");

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("not called");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
