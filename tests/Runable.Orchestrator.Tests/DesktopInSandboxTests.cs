using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Runable.Box.Client;
using Runable.Box.Protocol.Desktop;
using Runable.Box.Protocol.Processes;

namespace Runable.Orchestrator.Tests;

/// <summary>The virtual desktop inside a bubblewrap sandbox, through the orchestrator.</summary>
public sealed class DesktopInSandboxTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TypingIntoAnXterm_InsideASandbox_RunsTheCommand()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var response = await client.PostAsJsonAsync("v1/sandboxes", new { }, Ct);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), orchestrator.AdminKey);

        var first = await box.DesktopActionAsync(new DesktopActionRequest { Action = "screenshot" }, Ct);
        Assert.True(first.Ok);
        Assert.Equal((1280, 800), (first.Width, first.Height));
        Assert.Equal(":0", (await box.ExecAsync("echo $DISPLAY", cancellationToken: Ct)).Stdout.Trim());

        await box.StartProcessAsync(new ProcessStartRequest { Command = "exec xterm -geometry 80x20+40+40 -T typing -e bash --noprofile --norc" }, Ct);
        var watch = Stopwatch.StartNew();
        DesktopWindow? window = null;
        while (window is null)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), "xterm did not appear on the sandbox's desktop");
            window = (await box.DesktopWindowsAsync(Ct)).FirstOrDefault(w => w.Title == "typing");
            await Task.Delay(100, Ct);
        }

        await box.DesktopActionAsync(new DesktopActionRequest { Action = "left_click", Coordinate = [window.X + window.Width / 2, window.Y + window.Height / 2] }, Ct);
        await box.DesktopActionAsync(new DesktopActionRequest { Action = "type", Text = "echo typed > /workspace/marker" }, Ct);
        await box.DesktopActionAsync(new DesktopActionRequest { Action = "key", Key = "Return" }, Ct);
        while ((await box.ExecAsync("cat /workspace/marker 2>/dev/null", cancellationToken: Ct)).Stdout != "typed\n")
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "the typed command did not run");
            await Task.Delay(100, Ct);
        }

        var after = await box.DesktopActionAsync(new DesktopActionRequest { Action = "screenshot" }, Ct);
        Assert.NotEqual(first.Screenshot, after.Screenshot);
        await client.DeleteAsync($"v1/sandboxes/{id}", Ct);
    }
}
