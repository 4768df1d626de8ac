using System.Text.Json;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Keys;
using Runable.Orchestrator.Sandboxes;
using Runable.Orchestrator.Store;
using Runable.Sandboxes;
using Runable.Sandboxes.Bubblewrap;

namespace Runable.Orchestrator.Hosting;

/// <summary>Builds the orchestrator: keys and tenancy, sandboxes, and the proxy to their boxes.</summary>
public static class OrchestratorServer
{
    private const string CallerItem = "runable.caller";

    /// <summary>Creates the orchestrator application for the given settings.</summary>
    public static WebApplication Create(OrchestratorSettings settings, string[]? args = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [] });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(System.Net.IPAddress.Parse(settings.Host), settings.Port);
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new OrchestratorStore(settings.DataDirectory));
        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton(sp => new BubblewrapBackend(new BubblewrapOptions
        {
            StateDirectory = Path.Combine(settings.DataDirectory, "sandboxes"),
            RunableDirectory = settings.RunableDirectory,
        }, sp.GetRequiredService<ILogger<BubblewrapBackend>>()));
        builder.Services.AddSingleton<ISandboxBackend>(sp => sp.GetRequiredService<BubblewrapBackend>());
        builder.Services.AddSingleton(sp => new SandboxPool(sp.GetRequiredService<ISandboxBackend>(), settings.PoolSize, sp.GetRequiredService<ILogger<SandboxPool>>()));
        builder.Services.AddSingleton<SandboxService>();
        builder.Services.AddSingleton<BoxProxy>();
        builder.Services.AddHttpForwarder();

        var app = builder.Build();
        var keys = app.Services.GetRequiredService<ApiKeyService>();
        if (!string.IsNullOrEmpty(settings.AdminKey))
        {
            keys.EnsureAdmin(settings.AdminKey);
        }
        else if (keys.IsEmpty())
        {
            var (_, secret) = keys.Create("default", "admin", [Caller.Admin]);
            settings.OnAdminKeyCreated?.Invoke(secret);
        }

        app.Lifetime.ApplicationStarted.Register(() => _ = StartBackendAsync(app.Services));
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            app.Services.GetRequiredService<SandboxService>().DisposeAsync().AsTask().GetAwaiter().GetResult();
            app.Services.GetRequiredService<SandboxPool>().DisposeAsync().AsTask().GetAwaiter().GetResult();
        });

        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (OrchestratorException e)
            {
                await Problem(context, e.Status, e.Code, e.Message);
            }
            catch (BadHttpRequestException e)
            {
                await Problem(context, e.StatusCode, e.StatusCode == 413 ? "body_too_large" : "invalid_json", e.Message);
            }
        });
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.Equals("/health", StringComparison.OrdinalIgnoreCase))
            {
                await next(context);
                return;
            }

            var presented = context.Request.Headers["X-API-Key"].ToString();
            var authorization = context.Request.Headers.Authorization.ToString();
            if (presented.Length == 0 && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                presented = authorization[7..].Trim();
            }

            if (keys.Authenticate(presented) is not { } caller)
            {
                await Problem(context, 401, "unauthorized", "A valid key is required: send it as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'.");
                return;
            }

            context.Items[CallerItem] = caller;
            await next(context);
        });

        app.MapGet("/health", () => Results.Ok(new { status = "ok" }));

        var v1 = app.MapGroup("/v1");
        v1.MapPost("/keys", (HttpContext context, CreateKeyRequest request) =>
        {
            var caller = Require(context, Caller.Admin);
            var (info, secret) = keys.Create(request.Tenant ?? caller.Tenant, request.Name ?? "unnamed", request.Scopes ?? []);
            return Results.Created($"/v1/keys/{info.Id}", new { id = info.Id, key = secret, tenant = info.Tenant, scopes = info.Scopes });
        });
        v1.MapGet("/keys", (HttpContext context) => Results.Ok(keys.List(Require(context, Caller.Admin).Tenant)));
        v1.MapDelete("/keys/{id}", (HttpContext context, string id) =>
        {
            keys.Revoke(Require(context, Caller.Admin).Tenant, id);
            return Results.NoContent();
        });

        v1.MapPost("/sandboxes", async (HttpContext context, SandboxService sandboxes) =>
            Results.Created("/v1/sandboxes", await sandboxes.CreateAsync(Require(context, Caller.SandboxesScope), context.RequestAborted)));
        v1.MapGet("/sandboxes", (HttpContext context, SandboxService sandboxes) => Results.Ok(sandboxes.List(Require(context, Caller.SandboxesScope))));
        v1.MapGet("/sandboxes/{id}", (HttpContext context, string id, SandboxService sandboxes) => Results.Ok(sandboxes.Get(Require(context, Caller.SandboxesScope), id)));
        v1.MapDelete("/sandboxes/{id}", async (HttpContext context, string id, SandboxService sandboxes, BoxProxy proxy) =>
        {
            await sandboxes.DeleteAsync(Require(context, Caller.SandboxesScope), id, context.RequestAborted);
            proxy.Forget(id);
            return Results.NoContent();
        });
        v1.Map("/sandboxes/{id}/box/{**path}", async (HttpContext context, string id, string? path, SandboxService sandboxes, BoxProxy proxy) =>
        {
            var sandbox = sandboxes.Find(Require(context, Caller.SandboxesScope), id);
            await proxy.ForwardAsync(context, sandbox, path ?? "");
        });
        return app;
    }

    /// <summary>The URLs the started server listens on.</summary>
    public static IReadOnlyCollection<string> ListeningUrls(WebApplication app) =>
        app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    private static async Task StartBackendAsync(IServiceProvider services)
    {
        await services.GetRequiredService<BubblewrapBackend>().CleanOrphansAsync();
        await services.GetRequiredService<SandboxPool>().FillAsync();
    }

    private static Caller Require(HttpContext context, string scope)
    {
        var caller = (Caller)context.Items[CallerItem]!;
        return caller.Can(scope) ? caller : throw new OrchestratorException(403, "forbidden", $"This key lacks the '{scope}' scope.");
    }

    private static Task Problem(HttpContext context, int status, string code, string detail)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { type = $"https://runable.dev/problems/{code}", title = code, status, detail, code },
            (JsonSerializerOptions?)null, "application/problem+json");
    }
}

/// <summary>The body of <c>POST /v1/keys</c>.</summary>
public sealed record CreateKeyRequest(string? Name, IReadOnlyList<string>? Scopes, string? Tenant);
