using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>Cost from usage and price, and how failures are classified for retrying.</summary>
public sealed class ModelCostTests
{
    [Fact]
    public void Cost_ChargesFreshInput_CachedInput_AndOutput_EachAtItsPrice()
    {
        var price = new ModelPrice(InputUsdPerMillion: 3m, OutputUsdPerMillion: 15m, CachedInputUsdPerMillion: 0.3m);

        var cost = price.CostUsd(new UsageDetails { InputTokenCount = 100_000, CachedInputTokenCount = 60_000, OutputTokenCount = 2_000 });

        Assert.Equal(0.12m + 0.018m + 0.03m, cost);
        Assert.Equal(0.3m + 0.03m, new ModelPrice(3m, 15m).CostUsd(new UsageDetails { InputTokenCount = 100_000, CachedInputTokenCount = 60_000, OutputTokenCount = 2_000 }));
        Assert.Equal(0m, price.CostUsd(new UsageDetails()));
    }

    [Fact]
    public void Cost_IsUnknown_WithoutAPriceOrUsage()
    {
        var spec = new ModelSpec(ModelProvider.OpenAI, "m");
        var usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 10 };

        Assert.Null(new ModelInfo(spec).CostUsd(usage));
        Assert.Null(new ModelInfo(spec, Price: new ModelPrice(1m, 1m)).CostUsd(null));
        Assert.Equal(0.00002m, new ModelInfo(spec, Price: new ModelPrice(1m, 1m)).CostUsd(usage));
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.BadGateway, true)]
    [InlineData((HttpStatusCode)529, true)]
    [InlineData(HttpStatusCode.NotImplemented, false)]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.Forbidden, false)]
    public void Classify_HttpStatus(HttpStatusCode status, bool transient)
    {
        var failure = ModelCallFailure.Classify(new HttpRequestException("x", null, status), CancellationToken.None, TimeProvider.System);

        Assert.Equal((transient, (int)status), (failure.IsTransient, failure.Status));
    }

    [Fact]
    public void Classify_NetworkErrorsAndTimeoutsAreTransient_CallerCancellationAndBugsAreNot()
    {
        static bool Transient(Exception e) => ModelCallFailure.Classify(e, CancellationToken.None, TimeProvider.System).IsTransient;

        Assert.True(Transient(new HttpRequestException("reset", new SocketException((int)SocketError.ConnectionReset))));
        Assert.True(Transient(new InvalidOperationException("wrapped", new IOException("ended prematurely"))));
        Assert.True(Transient(new TaskCanceledException("timed out", new TimeoutException())));
        Assert.False(ModelCallFailure.Classify(new TaskCanceledException(), new CancellationToken(canceled: true), TimeProvider.System).IsTransient);
        Assert.False(Transient(new InvalidOperationException("a bug")));
        Assert.False(Transient(new System.Text.Json.JsonException("bad reply")));
    }

    [Fact]
    public void RetryAfter_ReadsMilliseconds_Seconds_AndDates()
    {
        var now = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromMilliseconds(1500), ModelCallFailure.ParseRetryAfter("1500", "9", now));
        Assert.Equal(TimeSpan.FromSeconds(9), ModelCallFailure.ParseRetryAfter(null, "9", now));
        Assert.Equal(TimeSpan.FromSeconds(30), ModelCallFailure.ParseRetryAfter(null, "Wed, 01 Jan 2025 12:00:30 GMT", now));
        Assert.Equal(TimeSpan.Zero, ModelCallFailure.ParseRetryAfter(null, "Wed, 01 Jan 2025 11:00:00 GMT", now));
        Assert.Null(ModelCallFailure.ParseRetryAfter(null, "soon", now));
        Assert.Null(ModelCallFailure.ParseRetryAfter(null, null, now));
    }
}
