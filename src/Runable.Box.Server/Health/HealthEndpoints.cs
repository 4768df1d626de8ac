using Runable.Box.Protocol.Health;

namespace Runable.Box.Server.Health;

/// <summary>Maps <c>GET /health</c>, the one route open without a key.</summary>
public static class HealthEndpoints
{
    /// <summary>The box's version, from its assembly.</summary>
    public static string Version { get; } =
        typeof(HealthEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health", (Runable.Box.Code.CodeService code, Runable.Box.Desktop.DesktopService desktop, Runable.Box.Desktop.VncServer vnc) => new HealthResult
        {
            Version = Version,
            Features = new HealthFeatures
            {
                Shell = true,
                Python = code.PythonAvailable,
                Typescript = code.TypeScriptAvailable,
                Desktop = desktop.Available,
                DesktopView = vnc.Available && Desktop.DesktopViewEndpoints.NoVncInstalled,
                Jupyter = Runable.Box.Code.Jupyter.JupyterServer.Available,
            },
        })
        .WithTags("Health")
        .WithSummary("Whether the box is up, its version and which tools it serves.");
        return endpoints;
    }
}
