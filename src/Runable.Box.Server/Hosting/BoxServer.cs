using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Runable.Box.Protocol.Serialization;
using Runable.Box.Server.Auth;
using Runable.Box.Server.Code;
using Runable.Box.Server.Desktop;
using Runable.Box.Server.Errors;
using Runable.Box.Server.Files;
using Runable.Box.Server.Health;
using Runable.Box.Server.Jupyter;
using Runable.Box.Server.Mcp;
using Runable.Box.Server.Processes;
using Runable.Box.Server.Shell;
using Runable.Box.Server.Terminal;

namespace Runable.Box.Server.Hosting;

/// <summary>Builds the box server: Kestrel, auth, problem responses, the tool routes, OpenAPI, docs and MCP.</summary>
public static class BoxServer
{
    /// <summary>Creates the box server application, ready to run, for the given settings.</summary>
    public static WebApplication Create(BoxServerSettings settings, string[]? args = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (string.IsNullOrEmpty(settings.ApiKey) && !settings.InsecureNoAuth)
        {
            throw new InvalidOperationException(
                "No API key is configured: pass --api-key, or set RUNABLE_BOX_TOKEN or AGENT_API_KEY (or --insecure-no-auth for local use only).");
        }

        // No configuration file watchers (a sandbox's box reads its settings once, and the content root is the
        // program's directory, not the workspace): this is a tenth of the box's start-up time.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false", .. args ?? []],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxUploadBytes;
            if (settings.UnixSocket is { } socket)
            {
                if (File.Exists(socket))
                {
                    File.Delete(socket);
                }

                kestrel.ListenUnixSocket(socket);
            }
            else
            {
                kestrel.Listen(System.Net.IPAddress.Parse(settings.Host), settings.Port);
            }
        });

        // Request-by-request framework logs drown what matters; configuration (Logging:LogLevel) can turn them back on.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(new ApiKeyVerifier(settings.InsecureNoAuth ? null : settings.ApiKey));
        builder.Services.ConfigureHttpJsonOptions(o => ConfigureJson(o));
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<BoxExceptionHandler>();
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Runable box API";
            doc.Info.Description = "The tools of one Runable sandbox: shell, processes, terminal and files.";
            return Task.CompletedTask;
        }));
        builder.Services.AddBoxTools(box =>
        {
            box.Workspace = settings.Workspace;
        });
        builder.Services.AddBoxMcp();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages(status => StatusProblems.WriteAsync(status.HttpContext));
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });

        app.MapHealthEndpoints();
        var json = new BodySizeLimit(settings.MaxJsonBytes);
        app.MapShellEndpoints().WithMetadata(json);
        app.MapProcessEndpoints().WithMetadata(json);
        app.MapTerminalEndpoints();
        app.MapCodeEndpoints().WithMetadata(json);
        app.MapDesktopEndpoints().WithMetadata(json);
        app.MapXdotEndpoints().WithMetadata(json);
        app.MapDesktopViewEndpoints();
        app.MapJupyterEndpoints();
        app.MapFileEndpoints(json);
        app.MapSeedFileEndpoints().WithMetadata(json);
        app.MapMcpWhenStarted("/mcp");
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(ui =>
        {
            ui.RoutePrefix = "docs";
            ui.DocumentTitle = "Runable box API";
            ui.SwaggerEndpoint("../openapi/v1.json", "Runable box API v1");
        });
        return app;
    }

    /// <summary>The box's JSON settings: snake_case, source-generated metadata first.</summary>
    public static void ConfigureJson(JsonOptions options)
    {
        options.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
        options.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        options.SerializerOptions.TypeInfoResolverChain.Insert(0, BoxJsonContext.Default);
    }

    /// <summary>The URLs the started server listens on (the real port when 0 was asked for).</summary>
    public static IReadOnlyCollection<string> ListeningUrls(WebApplication app) =>
        app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
}
