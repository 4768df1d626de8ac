using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Runable.Box.Client;
using Runable.Orchestrator.Sandboxes;

namespace Runable.Orchestrator.Tests;

public sealed class TenancyTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Routes_WithoutAKey_AreRefusedButHealthAnswers()
    {
        using var anonymous = orchestrator.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("health", Ct)).StatusCode);
        foreach (var path in new[] { "v1/sandboxes", "v1/keys", "v1/sandboxes/sbx_x/box/health" })
        {
            using var response = await anonymous.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task TheKeysCookie_OnARequestFromAnotherOrigin_IsRefused()
    {
        using var anonymous = orchestrator.Client(null);
        async Task<HttpResponseMessage> WithCookieAsync(HttpMethod method, string? origin)
        {
            using var request = new HttpRequestMessage(method, "v1/sandboxes");
            request.Headers.Add("Cookie", $"runable_key={orchestrator.AdminKey}");
            if (origin is not null)
            {
                request.Headers.Add("Origin", origin);
            }

            return await anonymous.SendAsync(request, Ct);
        }

        // A page on another port of this host (same site: SameSite lets the cookie go) or another host.
        foreach (var origin in new[] { $"http://{orchestrator.BaseAddress.Host}:1", "https://attacker.example" })
        {
            using var refused = await WithCookieAsync(HttpMethod.Post, origin);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("cross_origin", JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("code").GetString());
        }

        // The orchestrator's own pages, and requests without an Origin (navigations), keep working.
        using var own = await WithCookieAsync(HttpMethod.Get, $"http://{orchestrator.BaseAddress.Authority}");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        using var navigation = await WithCookieAsync(HttpMethod.Get, null);
        Assert.Equal(HttpStatusCode.OK, navigation.StatusCode);
    }

    [Fact]
    public async Task KeyA_CannotSeeProxyToOrDeleteKeyBsSandbox()
    {
        var keyA = await CreateKeyAsync("team-a");
        var keyB = await CreateKeyAsync("team-b");
        using var a = orchestrator.Client(keyA);
        using var b = orchestrator.Client(keyB);

        using var created = await a.PostAsync("v1/sandboxes", null, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadAsStringAsync(Ct);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        using (var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), keyA))
        {
            var result = await box.ExecAsync("id -u; pwd", cancellationToken: Ct);
            Assert.Equal("1000\n/workspace\n", result.Stdout);
        }

        var listB = await b.GetFromJsonAsync<JsonElement>("v1/sandboxes", Ct);
        Assert.Equal(0, listB.GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await b.GetAsync($"v1/sandboxes/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.PostAsJsonAsync($"v1/sandboxes/{id}/box/shell/exec", new { command = "touch /workspace/pwned" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.DeleteAsync($"v1/sandboxes/{id}", Ct)).StatusCode);

        var token = orchestrator.Services.GetRequiredService<SandboxService>().Find(new Auth.Caller("k", "team-a", new HashSet<string>()), id).BoxToken;
        Assert.DoesNotContain(token, body);
        Assert.DoesNotContain(token, await a.GetStringAsync($"v1/sandboxes/{id}", Ct));

        Assert.Equal(HttpStatusCode.NoContent, (await a.DeleteAsync($"v1/sandboxes/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await a.GetAsync($"v1/sandboxes/{id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task RevokedKey_IsRefusedAtOnce()
    {
        using var admin = orchestrator.Client(orchestrator.AdminKey);
        using var created = await admin.PostAsJsonAsync("v1/keys", new { name = "short-lived", scopes = new[] { "sandboxes" } }, Ct);
        var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement;
        using var client = orchestrator.Client(json.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v1/sandboxes", Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"v1/keys/{json.GetProperty("id").GetString()}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("v1/sandboxes", Ct)).StatusCode);
    }

    [Fact]
    public async Task KeyWithoutAdminScope_CannotManageKeys()
    {
        using var client = orchestrator.Client(await CreateKeyAsync("team-c"));
        using var response = await client.PostAsJsonAsync("v1/keys", new { name = "escalate", scopes = new[] { "admin" } }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private async Task<string> CreateKeyAsync(string tenant)
    {
        using var admin = orchestrator.Client(orchestrator.AdminKey);
        using var response = await admin.PostAsJsonAsync("v1/keys", new { name = tenant, scopes = new[] { "sandboxes" }, tenant }, Ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("key").GetString()!;
    }
}
