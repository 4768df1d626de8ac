using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Runable.Web.Api;
using Runable.Web.Session;

namespace Runable.Web.Hosting;

/// <summary>Registers the web UI's services.</summary>
public static class WebServiceCollectionExtensions
{
    /// <summary>
    /// Adds the web UI: Blazor with interactive server rendering, the key check it signs keys in with
    /// (<paramref name="keyCheck"/>, the host's own), and, when <paramref name="dataDirectory"/> is given, its data
    /// protection keys (circuits, form tokens) kept in <c>DATA/ui-keys</c> so a restart does not void open forms.
    /// </summary>
    public static IServiceCollection AddRunableWeb(this IServiceCollection services, Func<IServiceProvider, Func<string, WebIdentity?>> keyCheck,
        string? dataDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(keyCheck);
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.TryAddSingleton(sp => new WebKeyCheck(keyCheck(sp)));
        services.TryAddSingleton<OrchestratorAddress>();
        services.TryAddSingleton<EmbeddedAssets>();
        services.TryAddScoped<UiSession>();
        services.TryAddScoped<UiScripts>();
        if (dataDirectory is not null)
        {
            var keys = Path.Combine(dataDirectory, "ui-keys");
            Directory.CreateDirectory(keys, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            services.AddDataProtection().SetApplicationName("runable-web").PersistKeysToFileSystem(new DirectoryInfo(keys));

            // The keys are kept unencrypted on purpose, in a directory only this user can read: say so here, not at every start.
            services.AddLogging(logging => logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error));
        }

        return services;
    }
}
