using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Prometheus;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Runable.Orchestrator.Agents;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Context.Recall;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Keys;
using Runable.Orchestrator.Metrics;
using Runable.Orchestrator.Models;
using Runable.Orchestrator.Sandboxes;
using Runable.Orchestrator.Store;
using Runable.Orchestrator.Workspaces;
using Runable.Sandboxes;
using Runable.Sandboxes.Bubblewrap;
using Runable.Sandboxes.Network;
using Runable.Web.Hosting;

namespace Runable.Orchestrator.Hosting;

/// <summary>Builds the orchestrator: keys and tenancy, sandboxes, and the proxy to their boxes.</summary>
public static class OrchestratorServer
{
    /// <summary>Creates the orchestrator application for the given settings; <paramref name="configure"/> may adjust
    /// the builder (logging, extra services) before it is built.</summary>
    public static WebApplication Create(OrchestratorSettings settings, string[]? args = null, Action<WebApplicationBuilder>? configure = null)
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
        var dataLock = DataDirectoryLock.Acquire(settings.DataDirectory);
        builder.Services.AddSingleton(_ => dataLock);
        builder.Services.AddSingleton(new OrchestratorStore(settings.DataDirectory));
        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton(sp => new EgressProxy(settings.Egress, sp.GetRequiredService<ILogger<EgressProxy>>()));
        builder.Services.AddSingleton(sp => new BubblewrapBackend(new BubblewrapOptions
        {
            StateDirectory = Path.Combine(settings.DataDirectory, "sandboxes"),
            RunableDirectory = settings.RunableDirectory,
            PublicBoxPath = "/v1/sandboxes/{id}/box/",
        }, sp.GetRequiredService<ILogger<BubblewrapBackend>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<EgressProxy>()));
        builder.Services.AddSingleton<ISandboxBackend>(sp => sp.GetRequiredService<BubblewrapBackend>());
        builder.Services.AddSingleton(sp => new SandboxPool(sp.GetRequiredService<ISandboxBackend>(), settings.PoolSize, sp.GetRequiredService<ILogger<SandboxPool>>()));
        builder.Services.AddSingleton<SandboxService>();
        builder.Services.AddSingleton<BoxProxy>();
        builder.Services.AddSingleton<IJobStore, SqliteJobStore>();
        builder.Services.AddSingleton<JobEventHub>();
        if (settings.Models is not null)
        {
            builder.Services.AddSingleton(settings.Models);
        }

        builder.Services.AddModels();
        builder.Services.AddRecall();
        builder.Services.AddWorkspaces(settings.DataDirectory, settings.Workspaces);
        builder.Services.AddSingleton(settings.Agent);
        builder.Services.AddSingleton(sp => new JobService(sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<JobEventHub>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ISandboxBackend>().Name, sp.GetRequiredService<ModelCatalog>()));
        builder.Services.AddSingleton<OrchestratorMetrics>();
        // The web UI signs keys in with the API's own key check and then acts only through the API, with the key.
        builder.Services.AddRunableWeb(sp => key => sp.GetRequiredService<ApiKeyService>().Authenticate(key) is { } c
            ? new WebIdentity(c.KeyId, c.Tenant, c.Scopes) : null, settings.DataDirectory);
        builder.Services.AddHostedService(sp => new SandboxReaper(sp.GetRequiredService<SandboxService>(), sp.GetRequiredService<TimeProvider>(),
            settings.ReapInterval, sp.GetRequiredService<ILogger<SandboxReaper>>()));
        builder.Services.AddHttpForwarder();
        builder.Services.AddCors(o => o.AddDefaultPolicy(policy => policy
            .WithOrigins([.. settings.CorsOrigins])
            .WithMethods("GET", "POST", "PUT", "DELETE")
            .WithHeaders("X-API-Key", "Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID")
            .WithExposedHeaders("Location")));
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Runable orchestrator API";
            doc.Info.Description = "Keys and tenancy, sandboxes on demand, and the proxy to each sandbox's box (whose own routes are in the box API).";
            return Task.CompletedTask;
        }));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = settings.MaxBoxBodyBytes);

        configure?.Invoke(builder);
        if (settings.Jobs.MaxRunning > 0)
        {
            // Jobs run in this process: by the agent, unless the caller brought a runner of its own.
            builder.Services.TryAddSingleton<IJobRunner, AgentRunner>();
            builder.Services.AddSingleton(settings.Jobs);
            builder.Services.AddSingleton<JobWorker>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<JobWorker>());
        }

        var app = builder.Build();
        app.Services.GetRequiredService<DataDirectoryLock>(); // released when the application is disposed
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

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // The sandboxes' egress proxy never leads back to the orchestrator itself.
            var egress = app.Services.GetRequiredService<EgressProxy>();
            foreach (var url in ListeningUrls(app))
            {
                egress.ForbidPort(new Uri(url).Port);
            }

            _ = StartBackendAsync(app.Services);
        });
        var proxy = app.Services.GetRequiredService<BoxProxy>();
        app.Services.GetRequiredService<SandboxService>().Destroyed += proxy.Forget;
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            app.Services.GetRequiredService<SandboxService>().DisposeAsync().AsTask().GetAwaiter().GetResult();
            app.Services.GetRequiredService<SandboxPool>().DisposeAsync().AsTask().GetAwaiter().GetResult();
        });

        app.UseStatusCodePages(status =>
        {
            // The statuses the framework sets by itself get the same problem shape as every other error.
            var context = status.HttpContext;
            var (code, detail) = context.Response.StatusCode switch
            {
                404 => ("not_found", "No such route; the API reference is at /docs."),
                405 => ("method_not_allowed", $"This route does not accept {context.Request.Method}; the API reference is at /docs."),
                413 => ("body_too_large", "The request body is larger than this route accepts."),
                415 => ("invalid_argument", "Send the body as JSON with 'Content-Type: application/json'."),
                var other => ($"http_{other}", "The request failed."),
            };
            return Problem(context, context.Response.StatusCode, code, detail);
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
        // Before the key check: a browser's preflight carries no key. Allowed origins only (none unless configured).
        app.UseCors();
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.Equals("/health", StringComparison.OrdinalIgnoreCase) || WebPaths.IsPublic(context.Request))
            {
                await next(context);
                return;
            }

            var (presented, fromCookie) = PresentedKey(context.Request);
            if (keys.Authenticate(presented) is not { } caller)
            {
                if (WebPaths.IsPage(context.Request))
                {
                    // A browser opening a page of the UI without a (valid) key goes to the sign-in page.
                    context.Response.Redirect(WebPaths.SignInFor(context.Request));
                    return;
                }

                await Problem(context, 401, "unauthorized", "A valid key is required: send it as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'.");
                return;
            }

            if (fromCookie && !CrossOrigin.IsSameOrigin(context.Request))
            {
                // A page of another origin riding on the browser's cookie (a cross-site WebSocket or form post).
                await Problem(context, 403, "cross_origin", CrossOrigin.Refusal);
                return;
            }

            context.Items[CallerAccess.Item] = caller;
            if (context.Request.Cookies["runable_key"] != presented && context.Request.Query["api_key"].ToString() == presented)
            {
                // A browser page opened with ?api_key= (a desktop or Jupyter view): its scripts, follow-up requests
                // and WebSockets carry the key as this cookie.
                context.Response.Cookies.Append("runable_key", presented, new CookieOptions
                {
                    HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/",
                });
            }

            await next(context);
        });

        app.UseRunableWeb();
        app.UseRouting();
        app.UseAntiforgery();
        var metrics = app.Services.GetRequiredService<OrchestratorMetrics>();
        app.UseHttpMetrics(o => o.SetMetricFactory(metrics.Factory));

        app.MapGet("/health", () => Results.Ok(new { status = "ok" }));
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/metrics"), metricsApp => metricsApp.Use((context, next) =>
        {
            // The metrics count every tenant's sandboxes: for operators only.
            Require(context, Caller.Admin);
            return next(context);
        }));
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(ui =>
        {
            ui.RoutePrefix = "docs";
            ui.DocumentTitle = "Runable orchestrator API";
            ui.SwaggerEndpoint("../openapi/v1.json", "Runable orchestrator API v1");
        });
        var json = new RequestSizeLimitAttribute(settings.MaxJsonBytes);

        var v1 = app.MapGroup("/v1");
        v1.MapJobEndpoints(json);
        app.MapSeedEndpoints(json);
        app.MapUploadEndpoints();
        var keyRoutes = v1.MapGroup("").WithMetadata(json);
        keyRoutes.MapPost("/keys", (HttpContext context, CreateKeyRequest request) =>
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

        keyRoutes.MapPost("/sandboxes", async (HttpContext context, SandboxService sandboxes, CreateSandboxRequest? request) =>
        {
            var info = await sandboxes.CreateAsync(Require(context, Caller.SandboxesScope), request ?? new CreateSandboxRequest(), context.RequestAborted);
            return Results.Created($"/v1/sandboxes/{info.Id}", info);
        });
        v1.MapGet("/sandboxes", (HttpContext context, SandboxService sandboxes) => Results.Ok(sandboxes.List(Require(context, Caller.SandboxesScope))));
        v1.MapGet("/sandboxes/{id}", (HttpContext context, string id, SandboxService sandboxes) => Results.Ok(sandboxes.Get(Require(context, Caller.SandboxesScope), id)));
        v1.MapDelete("/sandboxes/{id}", async (HttpContext context, string id, SandboxService sandboxes) =>
        {
            await sandboxes.DeleteAsync(Require(context, Caller.SandboxesScope), id, context.RequestAborted);
            return Results.NoContent();
        });
        v1.Map("/sandboxes/{id}/box/{**path}", async (HttpContext context, string id, string? path, SandboxService sandboxes, BoxProxy proxy) =>
        {
            var caller = Require(context, Caller.SandboxesScope);
            var sandbox = sandboxes.Find(caller, id);
            using (sandboxes.Activity(caller, id))
            {
                await proxy.ForwardAsync(context, sandbox, path ?? "");
            }
        }).ExcludeFromDescription();
        app.MapRunableWeb();
        return app;
    }

    /// <summary>The URLs the started server listens on.</summary>
    public static IReadOnlyCollection<string> ListeningUrls(WebApplication app) =>
        app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    /// <summary>
    /// The key a request presents: <c>X-API-Key</c>, <c>Authorization: Bearer</c>, or (for browsers opening pages and
    /// WebSockets) the <c>api_key</c> query parameter, which the proxy strips, or the <c>runable_key</c> cookie.
    /// </summary>
    private static (string Key, bool FromCookie) PresentedKey(HttpRequest request)
    {
        var presented = request.Headers["X-API-Key"].ToString();
        var authorization = request.Headers.Authorization.ToString();
        if (presented.Length == 0 && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization[7..].Trim();
        }

        if (presented.Length > 0)
        {
            return (presented, false);
        }

        // The address before the cookie: a page given the key in its address is not riding on someone's cookie.
        return request.Query["api_key"].ToString() is { Length: > 0 } fromQuery ? (fromQuery, false) : (request.Cookies["runable_key"] ?? "", true);
    }

    private static async Task StartBackendAsync(IServiceProvider services)
    {
        await services.GetRequiredService<BubblewrapBackend>().CleanOrphansAsync();
        await services.GetRequiredService<SandboxPool>().FillAsync();
    }

    private static Caller Require(HttpContext context, string scope) => context.Require(scope);

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
