using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Runable.Orchestrator.Models;

/// <summary>Registers the model settings and the <see cref="ModelCatalog"/>.</summary>
public static class ModelServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ModelSettings"/> (the <c>Models</c> section, then the conventional environment variables) and a
    /// singleton <see cref="ModelCatalog"/>. A bad setting throws <see cref="ModelConfigurationException"/> when the
    /// catalog is first asked for; no model configured is not an error until a model is resolved.
    /// </summary>
    public static IServiceCollection AddModels(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp => ModelSettings.Load(sp.GetService<IConfiguration>()));
        services.TryAddSingleton(sp => new ModelCatalog(
            sp.GetRequiredService<ModelSettings>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));
        return services;
    }
}
