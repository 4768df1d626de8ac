using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Models;
using Runable.Orchestrator.Tests.Models;

namespace Runable.Web.Tests.Browser;

/// <summary>
/// A real orchestrator (bubblewrap sandboxes, SQLite, a job worker running the agent) whose model is the scripted
/// OpenAI-compatible server, and Debian's chromium driven by Playwright, shared by the browser tests.
/// </summary>
public sealed class UiFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private WebApplication? _app;
    private IPlaywright? _playwright;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("runable-ui-").FullName;

    public Uri BaseAddress { get; private set; } = null!;

    public string AdminKey { get; private set; } = "";

    public ScriptedModelServer Model { get; private set; } = null!;

    public ModelScripts Scripts { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Why the browser tests cannot run here, or null.</summary>
    public string? Missing { get; private set; }

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            Missing = "Debian's chromium is not installed (scripts/setup.sh installs it).";
            return;
        }

        Model = await ScriptedModelServer.StartAsync();
        Model.Responder = Scripts.Answer;
        _app = OrchestratorServer.Create(new OrchestratorSettings
        {
            Port = 0,
            DataDirectory = DataDirectory,
            RunableDirectory = Runable.Sandboxes.BoxProgram.Locate(),
            PoolSize = 2,
            ReapInterval = TimeSpan.FromSeconds(1),
            OnAdminKeyCreated = key => AdminKey = key,
            Models = new ModelSettings
            {
                DefaultModel = "openai:scripted-model",
                OpenAI = new ModelEndpointSettings { BaseUrl = Model.BaseUrl, ApiKey = "scripted-model-key" },
            },
            Jobs = new JobWorkerOptions { MaxRunning = 4, MaxRunningPerTenant = 4, Poll = TimeSpan.FromMilliseconds(200) },
        }, configure: builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await _app.StartAsync();
        BaseAddress = new Uri(OrchestratorServer.ListeningUrls(_app).First().TrimEnd('/') + "/");

        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>An HTTP client of the orchestrator carrying <paramref name="key"/>.</summary>
    public HttpClient Client(string key)
    {
        var http = new HttpClient { BaseAddress = BaseAddress };
        http.DefaultRequestHeaders.Add("X-API-Key", key);
        return http;
    }

    /// <summary>A new browser context (its own cookies) with a page of the given size.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> NewPageAsync(int width = 1280, int height = 860, string? colorScheme = null)
    {
        var context = await Browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = width, Height = height },
            BaseURL = BaseAddress.ToString(),
            AcceptDownloads = true,
            ColorScheme = colorScheme == "dark" ? ColorScheme.Dark : ColorScheme.Light,
        });
        context.SetDefaultTimeout(20_000);
        return (context, await context.NewPageAsync());
    }

    /// <summary>Signs <paramref name="page"/> in with <paramref name="key"/> through the sign-in form and waits for the app.</summary>
    public static async Task SignInAsync(IPage page, string key, string returnTo = "/")
    {
        await page.GotoAsync(returnTo);
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        await page.FillAsync("#key", key);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync(".app");
    }

    /// <summary>Creates a key through the API (as the admin).</summary>
    public async Task<(string Id, string Secret)> CreateKeyAsync(string name, string[] scopes, string? tenant = null)
    {
        using var http = Client(AdminKey);
        using var response = await http.PostAsJsonAsync("v1/keys", new { name, scopes, tenant });
        response.EnsureSuccessStatusCode();
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (json.GetProperty("id").GetString()!, json.GetProperty("key").GetString()!);
    }

    /// <summary>A sandbox of the admin's tenant.</summary>
    public async Task<string> CreateSandboxAsync()
    {
        using var http = Client(AdminKey);
        using var response = await http.PostAsJsonAsync("v1/sandboxes", new { });
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Where the UI tests leave their screenshots: the repository's <c>docs/screenshots</c>.</summary>
    public static string ScreenshotPath(string name)
    {
        var root = typeof(UiFixture).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
        var screenshots = Path.Combine(root, "docs", "screenshots");
        Directory.CreateDirectory(screenshots);
        return Path.Combine(screenshots, name);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (Model is not null)
        {
            await Model.DisposeAsync();
        }

        Directory.Delete(DataDirectory, recursive: true);
    }
}
