using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Runable.Box.Client;
using Runable.Box.Protocol.Desktop;
using Runable.Box.Protocol.Processes;
using Runable.Orchestrator.Tests.Models;

namespace Runable.Web.Tests.Browser;

/// <summary>
/// The web UI in a real browser (Debian's chromium through Playwright) against a real orchestrator: sign-in, jobs run by
/// the agent against a scripted model, their live trajectory and diff, cancelling, the sandbox's desktop, terminal and
/// files, keys, and tenancy. The tests leave screenshots of the main pages in docs/screenshots.
/// </summary>
public sealed class UiBrowserTests(UiFixture ui) : IClassFixture<UiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SignIn_WithAWrongKey_IsRefusedWithAReason_AndWithAValidKey_OpensTheJobs()
    {
        Assert.SkipWhen(ui.Missing is not null, ui.Missing ?? "");
        var (context, page) = await ui.NewPageAsync();
        await using var _ = context;

        // Any page of the UI without a key leads to the sign-in page, and back after it.
        await page.GotoAsync("/sandboxes");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?return=%2Fsandboxes$"));
        await page.FillAsync("#key", "rk_not_a_key_of_this_orchestrator");
        await page.ClickAsync("button[type=submit]");
        var error = page.Locator("#signin-error");
        await Assertions.Expect(error).ToContainTextAsync("not accepted");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "runable_key");
        await page.ScreenshotAsync(new() { Path = UiFixture.ScreenshotPath("signin.png") });

        await page.FillAsync("#key", ui.AdminKey);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/sandboxes$"));
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Sandboxes");
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "runable_key");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);

        // Sign out: the cookie is gone and the pages ask for a key again.
        await page.ClickAsync("text=Sign out");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "runable_key");
        await page.GotoAsync("/");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
    }

    [Fact]
    public async Task AJob_TheScriptedModelSolves_ShowsItsStepsLive_TakesAMessage_AndEndsWithItsDiff()
    {
        Assert.SkipWhen(ui.Missing is not null, ui.Missing ?? "");
        const string Marker = "UI-BUGFIX-1";
        ui.Scripts.Add(Marker,
            new ScriptedTurn
            {
                Text = "Let me **look** at the failing test first. <img src=x onerror=\"document.title='pwned'\"> [the docs](javascript:alert(1))",
                ToolCalls = [ScriptedToolCall.Of("bash", new { command = "cat calc.py && python3 test_calc.py; sleep 5" }, "call_look")],
            }.WithUsage(1000, 50),
            ScriptedTurn.Calls(ScriptedToolCall.Of("str_replace_based_edit_tool",
                new { command = "str_replace", path = "calc.py", old_str = "return a - b", new_str = "return a + b" }, "call_fix")).WithUsage(1500, 40),
            ScriptedTurn.Calls(ScriptedToolCall.Of("bash", new { command = "python3 test_calc.py" }, "call_test")).WithUsage(1700, 30),
            ScriptedTurn.Calls(ScriptedToolCall.Of("finish", new { summary = "add() subtracted; it **adds** now and test_calc.py passes" }, "call_done")).WithUsage(1800, 20));

        var (context, page) = await ui.NewPageAsync();
        await using var _ = context;
        await UiFixture.SignInAsync(page, ui.AdminKey);

        // The new-job form: the workspace is a zip (converted to tar.gz in the browser), uploaded with the job.
        await page.ClickAsync("[data-testid=new-job]");
        await page.FillAsync("[data-testid=task]", Marker + ": The test in test_calc.py fails. Fix calc.py.");
        await page.ClickAsync("label:has([data-testid=source-archive])");
        var zip = Path.Combine(ui.DataDirectory, "calc.zip");
        await File.WriteAllBytesAsync(zip, Repository(), Ct);
        await page.SetInputFilesAsync("[data-testid=archive-input]", zip);
        await page.ClickAsync("[data-testid=submit-job]");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/jobs/job_[0-9a-f]+$"), new() { Timeout = 30_000 });
        var jobId = page.Url[(page.Url.LastIndexOf('/') + 1)..];

        // Live: the first call shows while it still runs, and the header says the job runs.
        var look = page.Locator(".call[data-call=call_look]");
        await Assertions.Expect(look.Locator(".call-state")).ToContainTextAsync("running", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-testid=job-header]")).ToHaveAttributeAsync("data-status", "running");
        var said = page.Locator("li.event.step .markdown").First;
        await Assertions.Expect(said.Locator("strong")).ToHaveTextAsync("look");
        Assert.Equal(0, await said.Locator("img").CountAsync());
        Assert.Equal("#", await said.Locator("a").GetAttributeAsync("href"));
        Assert.Contains("<img src=x", await said.InnerTextAsync(), StringComparison.Ordinal);

        // A message to the running agent joins the trajectory and reaches the model with its next step.
        await page.FillAsync("[data-testid=message]", "UI note: keep the fix minimal");
        await page.ClickAsync("[data-testid=send-message]");
        await Assertions.Expect(page.Locator("li.event.message")).ToContainTextAsync("UI note: keep the fix minimal");
        await Assertions.Expect(look.Locator(".call-result")).ToContainTextAsync("add is broken", new() { Timeout = 30_000 });

        var header = page.Locator("[data-testid=job-header]");
        await Assertions.Expect(header).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator(".call[data-call=call_test] .call-result")).ToContainTextAsync("tests pass");
        await Assertions.Expect(page.Locator("[data-testid=steps]")).ToHaveTextAsync("4");
        await Assertions.Expect(page.Locator("[data-testid=job-result] strong").Last).ToHaveTextAsync("adds");
        await Assertions.Expect(page.Locator("[data-testid=feed-state]")).ToHaveAttributeAsync("data-state", "ended");
        Assert.NotEqual("pwned", await page.TitleAsync());
        Assert.Contains(ui.Model.Requests, r => r.Body?.ToJsonString().Contains("keep the fix minimal", StringComparison.Ordinal) == true);
        // Every event shows once, in order.
        var seqs = await page.Locator("li.event").EvaluateAllAsync<long[]>("els => els.map(e => Number(e.dataset.seq))");
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Length, seqs.Distinct().Count());
        await Assertions.Expect(page.Locator("[data-testid='artifact-diff.patch']")).ToBeVisibleAsync();
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new() { Path = UiFixture.ScreenshotPath("job.png") });

        // The diff: unified, then side by side.
        await page.ClickAsync("[data-testid=tab-diff]");
        var diff = page.Locator("[data-testid=diff]");
        await Assertions.Expect(diff.Locator("tr.add")).ToContainTextAsync("return a + b");
        await Assertions.Expect(diff.Locator("tr.del")).ToContainTextAsync("return a - b");
        await page.ClickAsync("label:has([data-testid=diff-split])");
        await Assertions.Expect(diff.Locator("td.code.add")).ToContainTextAsync("return a + b");
        await page.ScreenshotAsync(new() { Path = UiFixture.ScreenshotPath("job-diff.png") });

        // The jobs list shows it with its figures.
        await page.ClickAsync("nav >> text=Jobs");
        var row = page.Locator($"tr[data-job={jobId}]");
        await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("succeeded");
        await Assertions.Expect(row.Locator("td[data-label=Steps]")).ToHaveTextAsync("4");
        await Assertions.Expect(row.Locator("td[data-label=Tokens]")).ToHaveTextAsync("6.1k");
        await page.SelectOptionAsync("[data-testid=status-filter]", "failed");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await page.SelectOptionAsync("[data-testid=status-filter]", "");
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = UiFixture.ScreenshotPath("jobs.png") });

        // The same list on a phone, in the dark theme.
        var (phoneContext, phone) = await ui.NewPageAsync(390, 844, "dark");
        await using var __ = phoneContext;
        await UiFixture.SignInAsync(phone, ui.AdminKey);
        await Assertions.Expect(phone.Locator($"tr[data-job={jobId}]")).ToBeVisibleAsync();
        await phone.ScreenshotAsync(new() { Path = UiFixture.ScreenshotPath("jobs-phone-dark.png") });
    }

    [Fact]
    public async Task ANewJob_OnAnUploadedFolder_ShowsTheUploadsProgress_AndTheAgentSeesTheFolder()
    {
        Assert.SkipWhen(ui.Missing is not null, ui.Missing ?? "");
        const string Marker = "UI-FOLDER-1";
        ui.Scripts.Add(Marker,
            ScriptedTurn.Calls(ScriptedToolCall.Of("bash", new { command = "cat sub/hello.txt; wc -c < data.bin" }, "call_list")),
            ScriptedTurn.Reply("The folder is there."));
        var folder = Directory.CreateDirectory(Path.Combine(ui.DataDirectory, "upload-me")).FullName;
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        await File.WriteAllTextAsync(Path.Combine(folder, "sub", "hello.txt"), "hello from an uploaded folder\n", Ct);
        var noise = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(noise);
        await File.WriteAllBytesAsync(Path.Combine(folder, "data.bin"), noise, Ct);

        var (context, page) = await ui.NewPageAsync();
        await using var _ = context;
        await UiFixture.SignInAsync(page, ui.AdminKey, "/jobs/new");
        await page.FillAsync("[data-testid=task]", Marker + ": look at the uploaded folder");
        await page.ClickAsync("label:has([data-testid=source-folder])");
        await page.SetInputFilesAsync("[data-testid=folder-input]", folder);
        // Every progress text the page shows, as it shows it (the page moves on to the job when the upload is done).
        await page.EvaluateAsync("""
            () => {
              window.uploadTexts = [];
              new MutationObserver(() => {
                const bar = document.querySelector('[data-testid=upload-progress] [role=progressbar]');
                if (bar) window.uploadTexts.push(bar.getAttribute('aria-valuetext'));
              }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
            }
            """);
        await page.ClickAsync("[data-testid=submit-job]");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/jobs/job_[0-9a-f]+$"), new() { Timeout = 30_000 });
        var texts = await page.EvaluateAsync<string[]>("window.uploadTexts");
        Assert.Contains(texts, t => t.StartsWith("Packing the folder", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.StartsWith("Uploading", StringComparison.Ordinal) || t.StartsWith("Uploaded", StringComparison.Ordinal));

        var result = page.Locator(".call[data-call=call_list] .call-result");
        await Assertions.Expect(result).ToContainTextAsync("hello from an uploaded folder", new() { Timeout = 30_000 });
        await Assertions.Expect(result).ToContainTextAsync(noise.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator("[data-testid=job-header]")).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = 30_000 });
    }

    [Fact]
    public async Task CancellingAJob_FromItsPage_StopsItsRunningStep()
    {
        Assert.SkipWhen(ui.Missing is not null, ui.Missing ?? "");
        const string Marker = "UI-CANCEL-1";
        ui.Scripts.Add(Marker, ScriptedTurn.Calls(ScriptedToolCall.Of("bash", new { command = "echo started; sleep 120" }, "call_hang")));
        using var http = ui.Client(ui.AdminKey);
        using var submitted = await http.PostAsJsonAsync("v1/jobs", new { task = Marker + ": wait a long time" }, Ct);
        var id = JsonDocument.Parse(await submitted.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;

        var (context, page) = await ui.NewPageAsync();
        await using var _ = context;
        await UiFixture.SignInAsync(page, ui.AdminKey, $"/jobs/{id}");
        await Assertions.Expect(page.Locator(".call[data-call=call_hang] .call-state")).ToContainTextAsync("running", new() { Timeout = 30_000 });
        await page.ClickAsync("[data-testid=cancel-job]");
        var watch = Stopwatch.StartNew();
        await page.ClickAsync("[data-testid=confirm-cancel]");
        await Assertions.Expect(page.Locator("[data-testid=job-header]")).ToHaveAttributeAsync("data-status", "cancelled", new() { Timeout = 30_000 });
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"the cancel took {watch.Elapsed.TotalSeconds:0} s");
        await Assertions.Expect(page.Locator("li.event.status-change").Last).ToContainTextAsync("cancelled");
        Assert.Equal("cancelled", JsonDocument.Parse(await http.GetStringAsync($"v1/jobs/{id}", Ct)).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task TheDesktopTab_ShowsTheSandboxsScreen_ViewOnlyUntilTakenOver()
    {
        Assert.SkipWhen(ui.Missing is not null, ui.Missing ?? "");
        var id = await ui.CreateSandboxAsync();
        using var box = new BoxClient(new Uri(ui.BaseAddress, $"v1/sandboxes/{id}/box/"), ui.AdminKey);
        await box.DesktopActionAsync(new DesktopActionRequest { Action = "cursor_position" }, Ct);
        await box.StartProcessAsync(new ProcessStartRequest { Command = "exec xterm -geometry 90x24+60+60 -T ui-desktop -e bash --noprofile --norc" }, Ct);

        var (context, page) = await ui.NewPageAsync();
        await using var _ = context;
        await UiFixture.SignInAsync(page, ui.AdminKey, $"/sandboxes/{id}");
        await Assertions.Expect(page.Locator("[data-testid=desktop-state]")).ToContainTextAsync("watching (view only)", new() { Timeout = 30_000 });
        var canvas = page.Locator("[data-testid=desktop-screen] canvas");
        var drawn = Stopwatch.StartNew();
        while (!await canvas.EvaluateAsync<bool>("""
            c => {
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              for (let i = 4; i < d.length; i += 4) {
                if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
              }
              return false;
            }
            """))
        {
            Assert.True(drawn.Elapsed < TimeSpan.FromSeconds(15), "the desktop's canvas stayed blank: all its pixels are equal");
            await Task.Delay(200, Ct);
        }

        await page.ScreenshotAsync(new() { Path = UiFixture.ScreenshotPath("sandbox-desktop.png") });
        await page.ClickAsync("label:has([data-testid=take-over])");
        await Assertions.Expect(page.Locator("[data-testid=desktop-state]")).ToContainTextAsync("you are driving", new() { Timeout = 15_000 });
        await page.CloseAsync();
        await DeleteSandboxAsync(id);
    }

    [Fact]
    public async Task TheTerminalTab_RunsACommandInTheSandbox_AndTheJupyterTabShowsItsServer()
    {
        Assert.SkipWhen(ui.Missing is not null, ui.Missing ?? "");
        var id = await ui.CreateSandboxAsync();
        var (context, page) = await ui.NewPageAsync();
        await using var _ = context;
        await UiFixture.SignInAsync(page, ui.AdminKey, $"/sandboxes/{id}?tab=terminal");
        await Assertions.Expect(page.Locator("[data-testid=terminal-state]")).ToContainTextAsync("Connected", new() { Timeout = 20_000 });
        await page.ClickAsync("[data-testid=terminal]");
        await page.Keyboard.TypeAsync("echo $((6*7))-from-the-ui; pwd\n");
        await Assertions.Expect(page.Locator("[data-testid=terminal] .xterm-rows")).ToContainTextAsync("42-from-the-ui", new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("[data-testid=terminal] .xterm-rows")).ToContainTextAsync("/workspace");

        // The Jupyter tab embeds the sandbox's Jupyter server (its file tree, the workspace).
        await page.ClickAsync("[data-testid=tab-jupyter]");
        await Assertions.Expect(page.FrameLocator("iframe.jupyter-frame").Locator("body")).ToContainTextAsync("Running", new() { Timeout = 30_000 });
        await page.CloseAsync();
        await DeleteSandboxAsync(id);
    }

    [Fact]
    public async Task ASandbox_StartedInTheUi_ShowsItsFiles_DownloadsOne_AndIsDeleted()
    {
        Assert.SkipWhen(ui.Missing is not null, ui.Missing ?? "");
        var (context, page) = await ui.NewPageAsync();
        await using var _ = context;
        await UiFixture.SignInAsync(page, ui.AdminKey, "/sandboxes");
        await page.ClickAsync("[data-testid=create-sandbox] summary");
        await page.ClickAsync("[data-testid=start-sandbox]");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/sandboxes/sbx_[0-9a-f]+$"), new() { Timeout = 30_000 });
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        using (var box = new BoxClient(new Uri(ui.BaseAddress, $"v1/sandboxes/{id}/box/"), ui.AdminKey))
        {
            await box.WriteFileAsync("notes/hello.txt", Encoding.UTF8.GetBytes("hello from the workspace\nsecond line\n"), Ct);
            await box.WriteFileAsync("top.txt", Encoding.UTF8.GetBytes("top"), Ct);
        }

        await page.ClickAsync("[data-testid=tab-files]");
        await page.ClickAsync("[data-testid=file-tree] button[data-path=notes]");
        await page.ClickAsync("[data-testid=file-tree] button[data-path='notes/hello.txt']");
        await Assertions.Expect(page.Locator("[data-testid=file-content]")).ToContainTextAsync("hello from the workspace");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-testid=download-file]"));
        Assert.Equal("hello.txt", download.SuggestedFilename);
        var saved = Path.Combine(ui.DataDirectory, "downloaded.txt");
        await download.SaveAsAsync(saved);
        Assert.Equal("hello from the workspace\nsecond line\n", await File.ReadAllTextAsync(saved, Ct));

        await page.ClickAsync("[data-testid=delete-sandbox]");
        await page.ClickAsync("[data-testid=confirm-delete]");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/sandboxes$"));
        await Assertions.Expect(page.Locator($"tr[data-sandbox={id}]")).ToHaveCountAsync(0);
        using var http = ui.Client(ui.AdminKey);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"v1/sandboxes/{id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Keys_CreatedInTheUi_AreShownOnce_AndARevokedKeyStopsWorking_EvenInAnOpenPage()
    {
        Assert.SkipWhen(ui.Missing is not null, ui.Missing ?? "");
        var (context, page) = await ui.NewPageAsync();
        await using var _ = context;
        await UiFixture.SignInAsync(page, ui.AdminKey, "/keys");
        await page.ClickAsync("[data-testid=create-key] summary");
        await page.FillAsync("[data-testid=key-name]", "ui-made-key");
        await page.ClickAsync("[data-testid=create-key-submit]");
        var secret = await page.Locator("[data-testid=new-key-secret]").InputValueAsync();
        Assert.StartsWith("rk_", secret, StringComparison.Ordinal);
        var row = page.Locator("tr", new() { Has = page.Locator("td", new() { HasText = "ui-made-key" }) });
        await Assertions.Expect(row.Locator("[data-testid=key-state]")).ToHaveTextAsync("active");
        await page.ScreenshotAsync(new() { Path = UiFixture.ScreenshotPath("keys.png") });

        // The new key works, in the API and in a browser of its own.
        using (var http = ui.Client(secret))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/jobs", Ct)).StatusCode);
        }

        var (otherContext, other) = await ui.NewPageAsync();
        await using var __ = otherContext;
        await UiFixture.SignInAsync(other, secret);
        await Assertions.Expect(other.Locator("h1")).ToHaveTextAsync("Jobs");

        // Revoked: the API refuses it at once, and the open page says so at its next call.
        await row.Locator("[data-testid=revoke]").ClickAsync();
        await row.Locator("[data-testid=confirm-revoke]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=key-state]")).ToContainTextAsync("revoked");
        using (var http = ui.Client(secret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/jobs", Ct)).StatusCode);
        }

        await Assertions.Expect(other.Locator("[data-testid=sign-in-again]")).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await other.GotoAsync("/");
        await Assertions.Expect(other).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        await other.FillAsync("#key", secret);
        await other.ClickAsync("button[type=submit]");
        await Assertions.Expect(other.Locator("#signin-error")).ToContainTextAsync("not accepted");
    }

    [Fact]
    public async Task ASecondTenantsKey_SeesNoneOfTheFirstTenantsJobs()
    {
        Assert.SkipWhen(ui.Missing is not null, ui.Missing ?? "");
        const string Marker = "UI-TENANT-1";
        ui.Scripts.Add(Marker, ScriptedTurn.Reply("Nothing to do here."));
        using var admin = ui.Client(ui.AdminKey);
        using var submitted = await admin.PostAsJsonAsync("v1/jobs", new { task = Marker + ": the first tenant's job" }, Ct);
        var id = JsonDocument.Parse(await submitted.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        var (_, teamB) = await ui.CreateKeyAsync("team-b-ui", ["jobs:read", "jobs:write", "sandboxes"], "team-b");

        var (context, page) = await ui.NewPageAsync();
        await using var _ = context;
        await UiFixture.SignInAsync(page, teamB);
        await Assertions.Expect(page.Locator("[data-testid=no-jobs]")).ToContainTextAsync("team-b");
        Assert.Equal(0, await page.Locator("tr[data-job]").CountAsync());
        await page.GotoAsync($"/jobs/{id}");
        await Assertions.Expect(page.Locator("[data-testid=error]")).ToContainTextAsync($"No job '{id}'");
        await Assertions.Expect(page.Locator("[data-testid=job-header]")).ToHaveCountAsync(0);
        await page.GotoAsync("/sandboxes");
        await Assertions.Expect(page.Locator("[data-testid=no-sandboxes]")).ToBeVisibleAsync();
        Assert.DoesNotContain("Keys", await page.Locator("nav.mainnav").InnerTextAsync(), StringComparison.Ordinal);
    }

    private async Task DeleteSandboxAsync(string id)
    {
        using var http = ui.Client(ui.AdminKey);
        await http.DeleteAsync($"v1/sandboxes/{id}", Ct);
    }

    /// <summary>A zip of a repository with a bug, its files under one top folder (as a forge's download has them).</summary>
    private static byte[] Repository()
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, text) in new[]
            {
                ("calc-main/calc.py", "def add(a, b):\n    return a - b\n"),
                ("calc-main/test_calc.py", "from calc import add\nassert add(2, 3) == 5, 'add is broken'\nprint('tests pass')\n"),
            })
            {
                using var entry = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                entry.Write(Encoding.UTF8.GetBytes(text));
            }
        }

        return memory.ToArray();
    }
}
