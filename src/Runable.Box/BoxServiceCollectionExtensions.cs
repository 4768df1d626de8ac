using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Runable.Box.Code;
using Runable.Box.Desktop;
using Runable.Box.Files;
using Runable.Box.Network;
using Runable.Box.Processes;
using Runable.Box.Shell;
using Runable.Box.Terminal;

namespace Runable.Box;

/// <summary>Registers the box's tool services.</summary>
public static class BoxServiceCollectionExtensions
{
    /// <summary>Adds the shell, process, terminal and file services and the egress bridge, bound to the <c>Box</c> configuration section.</summary>
    public static IServiceCollection AddBoxTools(this IServiceCollection services, Action<BoxOptions>? configure = null)
    {
        var options = services.AddOptions<BoxOptions>().BindConfiguration(BoxOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BoxOptions>, BoxOptionsValidator>());
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BoxState>();
        services.TryAddSingleton<ProcessSupervisor>();
        services.TryAddSingleton<ShellService>();
        services.TryAddSingleton<TerminalService>();
        services.TryAddSingleton<FileService>();
        services.TryAddSingleton<CodeService>();
        services.TryAddSingleton<DesktopService>();
        services.TryAddSingleton<VncServer>();
        services.TryAddSingleton<Code.Jupyter.JupyterServer>();
        services.AddHostedService<EgressBridge>();
        return services;
    }
}
