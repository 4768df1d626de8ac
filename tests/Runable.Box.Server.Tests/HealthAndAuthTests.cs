using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Runable.Box.Server.Tests;

public sealed class HealthAndAuthTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    [Fact]
    public async Task Health_WithoutKey_ReportsOkAndVersion()
    {
        using var http = box.AnonymousHttp();
        var health = await http.GetFromJsonAsync<JsonElement>("health", TestContext.Current.CancellationToken);
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(health.GetProperty("version").GetString()));
        Assert.True(health.GetProperty("features").GetProperty("shell").GetBoolean());
        Assert.True(health.GetProperty("features").GetProperty("python").GetBoolean(), "this machine has Debian's python3 with ipykernel");
    }

    [Theory]
    [InlineData("GET", "processes")]
    [InlineData("POST", "shell/exec")]
    [InlineData("GET", "shell/sessions")]
    [InlineData("GET", "openapi/v1.json")]
    [InlineData("POST", "mcp")]
    [InlineData("GET", "terminal")]
    public async Task Routes_WithoutKey_Return401Problem(string method, string path)
    {
        using var http = box.AnonymousHttp();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? JsonContent.Create(new { command = "touch pwned" }) : null };
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("unauthorized", problem.GetProperty("code").GetString());
        Assert.False(File.Exists(Path.Combine(box.Workspace, "pwned")));
    }

    [Theory]
    [InlineData("X-API-Key", "wrong")]
    [InlineData("Authorization", "Bearer wrong")]
    [InlineData("X-API-Key", BoxServerFixture.ApiKey + "x")]
    [InlineData("Authorization", "Basic " + BoxServerFixture.ApiKey)]
    public async Task Routes_WithWrongKey_Return401(string header, string value)
    {
        using var http = box.AnonymousHttp();
        http.DefaultRequestHeaders.TryAddWithoutValidation(header, value);
        using var response = await http.GetAsync("processes", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Routes_WithBearerKey_AreServed()
    {
        using var http = box.AnonymousHttp();
        http.DefaultRequestHeaders.Authorization = new("Bearer", BoxServerFixture.ApiKey);
        using var response = await http.GetAsync("processes", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheBoxRoutes()
    {
        using var http = box.Http();
        var doc = await http.GetFromJsonAsync<JsonElement>("openapi/v1.json", TestContext.Current.CancellationToken);
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/shell/exec", "/shell/sessions", "/processes", "/processes/{processId}/output" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} missing from the OpenAPI document");
        }

        var exec = doc.GetProperty("components").GetProperty("schemas").GetProperty("ShellExecRequest").GetProperty("properties");
        Assert.True(exec.TryGetProperty("timeout_s", out _), "the document must use the wire's snake_case names");
        Assert.True(exec.TryGetProperty("on_timeout", out _));
    }

    [Fact]
    public async Task Docs_Page_IsServed()
    {
        using var http = box.Http();
        var html = await http.GetStringAsync("docs/index.html", TestContext.Current.CancellationToken);
        Assert.Contains("swagger", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UnknownRoute_Returns404Problem()
    {
        using var http = box.Http();
        using var response = await http.GetAsync("no/such/route", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
