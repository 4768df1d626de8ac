using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Runable.Web.Api;
using Runable.Web.Components.Trajectory;
using Runable.Web.Session;

namespace Runable.Web.Tests.Components;

/// <summary>
/// The trajectory view (bunit) against a real event stream over HTTP: long outputs collapsed with the whole on demand,
/// images inline and only as images, model text as safe Markdown, and a dropped stream resumed without gaps or duplicates.
/// </summary>
public sealed class TrajectoryViewTests : IAsyncLifetime
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);
    private readonly BunitContext _bunit = new();
    private readonly SocketsHttpHandler _handler = new() { UseProxy = false };
    private EventStreamServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await EventStreamServer.StartAsync();
        _bunit.JSInterop.Mode = JSRuntimeMode.Loose;
        _bunit.JSInterop.SetupModule("./ui/runable.js");
        _bunit.Services.AddScoped<UiScripts>();
    }

    public async ValueTask DisposeAsync()
    {
        await _bunit.DisposeAsync();
        await _server.DisposeAsync();
        _handler.Dispose();
    }

    [Fact]
    public void ADroppedStream_IsResumedAfterTheLastEvent_AndEveryEventShowsOnceInOrder()
    {
        _server
            .Plan(drop: true,
                EventStreamServer.Event(1, "status", new { status = "running" }),
                EventStreamServer.Event(2, "assistant", new { step = 1, text = "Running the tests.", tool_calls = new[] { new { id = "c1", name = "bash", arguments = new { command = "pytest -q" } } } }),
                EventStreamServer.Event(3, "tool_call", new { id = "c1", name = "bash", arguments = new { command = "pytest -q" } }))
            // The resumed stream repeats the last event (as a server may after a retry): it must not show twice.
            .Plan(drop: false,
                EventStreamServer.Event(3, "tool_call", new { id = "c1", name = "bash", arguments = new { command = "pytest -q" } }),
                EventStreamServer.Event(4, "tool_result", new { id = "c1", name = "bash", text = "3 passed after the reconnect", is_error = false, duration_ms = 1200 }),
                EventStreamServer.Event(5, "message", new { text = "keep going" }),
                EventStreamServer.Event(6, "status", new { status = "succeeded", reason = "finished" }));

        var view = Render();
        view.WaitForAssertion(() => Assert.Equal("ended", view.Find("[data-testid=feed-state]").GetAttribute("data-state")), s_wait);

        Assert.Equal(["0", "3"], _server.ResumedAfter);
        Assert.Equal(6, view.Instance.Model.LastSeq);
        Assert.Equal(6, view.Instance.Model.EventCount);
        var seqs = view.FindAll("li.event").Select(li => long.Parse(li.GetAttribute("data-seq")!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal([1, 2, 5, 6], seqs);
        var call = Assert.Single(view.FindAll(".call[data-call=c1]"));
        Assert.Contains("3 passed after the reconnect", call.QuerySelector(".call-result")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("1s", call.QuerySelector(".call-state")!.TextContent, StringComparison.Ordinal);
        Assert.Single(view.FindAll("li.event.message"), li => li.TextContent.Contains("keep going", StringComparison.Ordinal));
    }

    [Fact]
    public void ALongOutput_IsCollapsedToItsHead_AndTheWholeTextIsOneClickAway()
    {
        var output = string.Join('\n', Enumerable.Range(1, 500).Select(i => $"line {i}"));
        var script = string.Join('\n', Enumerable.Range(1, 40).Select(i => $"echo step {i}"));
        _server.Plan(drop: false,
            EventStreamServer.Event(1, "assistant", new { step = 1, text = "", tool_calls = new[] { new { id = "c1", name = "bash", arguments = new { command = script } } } }),
            EventStreamServer.Event(2, "tool_result", new { id = "c1", name = "bash", text = output, is_error = false, truncated = true, full_output_path = "/tmp/runable/outputs/c1.txt" }),
            EventStreamServer.Event(3, "status", new { status = "succeeded" }));

        var view = Render();
        view.WaitForAssertion(() => Assert.NotNull(view.Find(".call-result pre")), s_wait);
        // Every event in (the last one re-renders the list): a click before it could hit a handler that render replaced.
        view.WaitForAssertion(() => Assert.NotEmpty(view.FindAll("li.event.status-change")), s_wait);
        var result = view.Find(".call-result");
        var collapsed = result.QuerySelector("pre")!;
        Assert.Equal("true", collapsed.GetAttribute("data-collapsed"));
        Assert.Contains("line 16\n", collapsed.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("line 17", collapsed.TextContent, StringComparison.Ordinal);
        Assert.Contains("/tmp/runable/outputs/c1.txt", result.TextContent, StringComparison.Ordinal);
        var command = view.Find(".call-command pre");
        Assert.Contains("echo step 12", command.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("echo step 13", command.TextContent, StringComparison.Ordinal);

        var showAll = view.Find(".call-result button");
        Assert.Contains("Show all 500 lines", showAll.TextContent, StringComparison.Ordinal);
        showAll.Click();
        var whole = view.Find(".call-result pre");
        Assert.Null(whole.GetAttribute("data-collapsed"));
        Assert.Equal(output, whole.TextContent);
        view.Find(".call-result button").Click();
        Assert.Equal("true", view.Find(".call-result pre").GetAttribute("data-collapsed"));
    }

    [Fact]
    public void ImagesInAResult_ShowInline_OnlyAsImageDataUrls_AndUnkeptOnesAreCounted()
    {
        const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
        _server.Plan(drop: false,
            EventStreamServer.Event(1, "assistant", new { step = 1, text = "A screenshot.", tool_calls = new[] { new { id = "c1", name = "computer", arguments = new { action = "screenshot" } } } }),
            EventStreamServer.Event(2, "tool_result", new
            {
                id = "c1", name = "computer", text = "took a screenshot", is_error = false,
                images = new object[]
                {
                    new { media_type = "image/png", data = Png },
                    new { media_type = "text/html", data = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==" },
                    "this is not base64 at all",
                },
            }),
            EventStreamServer.Event(3, "assistant", new { step = 2, text = "", tool_calls = new[] { new { id = "c2", name = "computer", arguments = new { action = "zoom" } } } }),
            EventStreamServer.Event(4, "tool_result", new { id = "c2", name = "computer", text = "zoomed", is_error = false, images = 2 }),
            // As the agent logs them: how many the model saw, and the ones the event keeps.
            EventStreamServer.Event(5, "assistant", new { step = 3, text = "", tool_calls = new[] { new { id = "c3", name = "computer", arguments = new { action = "screenshot" } } } }),
            EventStreamServer.Event(6, "tool_result", new
            {
                id = "c3", name = "computer", text = "took a screenshot", is_error = false, images = 3,
                image_data = new[] { new { media_type = "image/png", data = Png } },
            }),
            EventStreamServer.Event(7, "status", new { status = "succeeded" }));

        var view = Render();
        view.WaitForAssertion(() => Assert.Equal("ended", view.Find("[data-testid=feed-state]").GetAttribute("data-state")), s_wait);
        var image = Assert.Single(view.FindAll(".call[data-call=c1] img"));
        Assert.Equal("data:image/png;base64," + Png, image.GetAttribute("src"));
        Assert.Equal("data:image/png;base64," + Png, Assert.Single(view.FindAll(".call[data-call=c3] img")).GetAttribute("src"));
        Assert.Equal(2, view.FindAll("img").Count);
        Assert.Contains("2 image(s)", view.Find(".call[data-call=c3] [data-testid=images-not-kept]").TextContent, StringComparison.Ordinal);
        Assert.Equal("screenshot", view.Find(".call[data-call=c1] .call-summary").TextContent);
        Assert.Contains("2 image(s)", view.Find(".call[data-call=c1] [data-testid=images-not-kept]").TextContent, StringComparison.Ordinal);
        Assert.Contains("2 image(s)", view.Find(".call[data-call=c2] [data-testid=images-not-kept]").TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", view.Markup, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ModelText_IsMarkdown_WithoutRawHtml_OrUnsafeLinks_AndContextDecisionsShow()
    {
        _server.Plan(drop: false,
            EventStreamServer.Event(1, "assistant", new
            {
                step = 1,
                text = "**Fixed** it. <script>alert(1)</script><img src=x onerror=alert(2)> [bad](javascript:alert(3)) [good](https://example.com/docs) ![pic](https://tracker.example/p.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |",
                tool_calls = Array.Empty<object>(),
            }),
            EventStreamServer.Event(2, "context", new { action = "masked", units = 3, reason = "the prompt reached 60% of the budget", tokens_before = 120000, tokens_after = 70000 }),
            EventStreamServer.Event(3, "error", new { message = "The workspace's diff could not be saved: disk full" }),
            EventStreamServer.Event(4, "status", new { status = "failed", reason = "error" }));

        var view = Render();
        view.WaitForAssertion(() => Assert.Equal("ended", view.Find("[data-testid=feed-state]").GetAttribute("data-state")), s_wait);
        var markdown = view.Find(".markdown");
        Assert.Equal("Fixed", markdown.QuerySelector("strong")!.TextContent);
        Assert.Empty(markdown.QuerySelectorAll("script, img"));
        Assert.Contains("<script>alert(1)</script>", markdown.TextContent, StringComparison.Ordinal);
        var links = markdown.QuerySelectorAll("a").ToDictionary(a => a.TextContent, a => a.GetAttribute("href"));
        Assert.Equal("#", links["bad"]);
        Assert.Equal("https://example.com/docs", links["good"]);
        Assert.Equal("https://tracker.example/p.png", links["pic"]);
        Assert.Equal("nofollow noopener noreferrer", markdown.QuerySelector("a[href='https://example.com/docs']")!.GetAttribute("rel"));
        Assert.NotNull(markdown.QuerySelector("table td"));

        var context = view.Find("li.event.context");
        Assert.Contains("masked", context.QuerySelector("strong")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("the prompt reached 60% of the budget", context.TextContent, StringComparison.Ordinal);
        Assert.Contains("70000", context.TextContent, StringComparison.Ordinal);
        Assert.Contains("disk full", view.Find("li.event.error").TextContent, StringComparison.Ordinal);
    }

    private IRenderedComponent<TrajectoryView> Render() =>
        _bunit.Render<TrajectoryView>(p => p
            .Add(v => v.Api, new RunableApi(_handler, _server.Root, "rk_test"))
            .Add(v => v.JobId, "job_1")
            .Add(v => v.RetryDelay, TimeSpan.FromMilliseconds(50)));
}
