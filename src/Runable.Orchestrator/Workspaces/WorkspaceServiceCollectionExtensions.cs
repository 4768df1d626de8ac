using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Runable.Orchestrator.Workspaces;

/// <summary>Registers the workspace services of jobs: uploads, git sources, seeding and artifacts.</summary>
public static class WorkspaceServiceCollectionExtensions
{
    /// <summary>Adds <see cref="UploadStore"/>, <see cref="GitCloner"/>, <see cref="WorkspaceSeeder"/>, <see cref="ArtifactStore"/> and
    /// <see cref="WorkspaceArtifacts"/>, keeping their files under <paramref name="dataDirectory"/>. Bad options stop start-up.</summary>
    public static IServiceCollection AddWorkspaces(this IServiceCollection services, string dataDirectory, WorkspaceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        options ??= new WorkspaceOptions();
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => new UploadStore(dataDirectory, sp.GetRequiredService<WorkspaceOptions>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<UploadStore>>()));
        services.TryAddSingleton(sp => new ArtifactStore(dataDirectory, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<GitCloner>();
        services.TryAddSingleton<WorkspaceSeeder>();
        services.TryAddSingleton<WorkspaceArtifacts>();
        return services;
    }
}
