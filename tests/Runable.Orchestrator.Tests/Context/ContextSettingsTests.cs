using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Context;
using Runable.Orchestrator.Jobs;

namespace Runable.Orchestrator.Tests.Context;

/// <summary>The per-job settings: defaults by the model's window, the job's overrides, and refusals that say what to send.</summary>
public sealed class ContextSettingsTests
{
    [Theory]
    [InlineData(8_000, 1, 2_000)]
    [InlineData(32_000, 2, 8_000)]
    [InlineData(200_000, 3, 16_000)]
    public void Defaults_FollowTheWindow(long window, int keep, long reserve)
    {
        var settings = ContextSettings.For(window, 16_000, 8_192, null, tiktokenModel: true);
        Assert.Equal((keep, reserve), (settings.KeepExchanges, settings.OutputReserveTokens));
        Assert.Equal((0.6, 0.85), (settings.MaskAt, settings.SummarizeAt));
        settings.Validate();
        Assert.Equal(1.2, ContextSettings.For(window, null, 8_192, null, tiktokenModel: false).InitialCalibration);
    }

    [Fact]
    public void TheJobsFields_OverrideTheDefaults()
    {
        var settings = ContextSettings.For(100_000, null, 8_192, new JobContextRequest
        {
            MaxPromptTokens = 50_000, OutputReserveTokens = 4_000, KeepExchanges = 5, MaskAt = 0.5, SummarizeAt = 0.7, SummarizerModel = "openai:small",
        }, tiktokenModel: true);
        settings.Validate();
        Assert.Equal((50_000L, 4_000L, 5, 0.5, 0.7, "openai:small"),
            (settings.MaxPromptTokens!.Value, settings.OutputReserveTokens, settings.KeepExchanges, settings.MaskAt, settings.SummarizeAt, settings.SummarizerModel));
        Assert.True(settings.MaskTo < settings.MaskAt && settings.SummarizeTo < settings.SummarizeAt);
    }

    [Theory]
    [InlineData(0.9, 0.8, null, "context.mask_at must not be above context.summarize_at")]
    [InlineData(null, null, 0, "context.keep_exchanges")]
    [InlineData(0.99, null, null, "context.mask_at")]
    public void BadFields_AreRefused_NamingTheField(double? maskAt, double? summarizeAt, int? keep, string expected)
    {
        var request = new SubmitJobRequest { Task = "x", Context = new JobContextRequest { MaskAt = maskAt, SummarizeAt = summarizeAt, KeepExchanges = keep } };
        var error = Assert.Throws<OrchestratorException>(() => request.Validate("bubblewrap"));
        Assert.Equal(400, error.Status);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadSummarizerModel_OrAReserveOverHalfTheWindow_IsRefused()
    {
        Assert.Contains("summarizer_model", Assert.Throws<OrchestratorException>(() => new SubmitJobRequest
        {
            Task = "x", Context = new JobContextRequest { SummarizerModel = "nonsense:model" },
        }.Validate("bubblewrap")).Message, StringComparison.Ordinal);
        Assert.Contains("output_reserve_tokens", Assert.Throws<OrchestratorException>(() => new SubmitJobRequest
        {
            Task = "x", Context = new JobContextRequest { WindowTokens = 10_000, OutputReserveTokens = 6_000 },
        }.Validate("bubblewrap")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheEncoding_IsChosenPerModel()
    {
        Assert.Equal("cl100k_base", TokenCounter.ForModel("gpt-4-turbo").Encoding);
        Assert.Equal("cl100k_base", TokenCounter.ForModel("gpt-3.5-turbo").Encoding);
        Assert.Equal("o200k_base", TokenCounter.ForModel("gpt-4o-mini").Encoding);
        Assert.Equal("o200k_base", TokenCounter.ForModel("gpt-4.1").Encoding);
        Assert.Equal("o200k_base", TokenCounter.ForModel("claude-sonnet-4-5").Encoding);
        Assert.True(TokenCounter.O200k.Count("The quick brown fox") is > 2 and < 8);
        Assert.Equal(TokenCounter.O200k.Count("hello") + TokenCounter.MessageOverhead, TokenCounter.O200k.Count(new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "hello")));
    }
}
