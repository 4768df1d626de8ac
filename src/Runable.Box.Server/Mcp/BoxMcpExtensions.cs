namespace Runable.Box.Server.Mcp;

/// <summary>Registers the box's MCP server (streamable HTTP at <c>/mcp</c>) and its tools.</summary>
public static class BoxMcpExtensions
{
    public static IServiceCollection AddBoxMcp(this IServiceCollection services)
    {
        services.AddMcpServer(o =>
            {
                o.ServerInfo = new() { Name = "runable-box", Version = Health.HealthEndpoints.Version };
                o.ServerInstructions = "Tools of one Runable sandbox: run shell commands (with persistent sessions and background processes) and read, write, edit and search files in the workspace.";
            })
            .WithHttpTransport(o => o.Stateless = true)
            .WithTools<ShellTools>()
            .WithTools<FileTools>()
            .WithTools<CodeTools>();
        return services;
    }
}
