namespace Runable.Box.Server.Mcp;

/// <summary>Registers the box's MCP server (streamable HTTP at <c>/mcp</c>) and its tools.</summary>
public static class BoxMcpExtensions
{
    /// <summary>
    /// MCP's JSON settings plus the box's source-generated types, for tools whose parameters MCP's own metadata
    /// lacks (<c>int[]</c> coordinates): the box is compiled ahead of time, where nothing is found by reflection.
    /// </summary>
    private static readonly System.Text.Json.JsonSerializerOptions ToolJson = CreateToolJson();

    private static System.Text.Json.JsonSerializerOptions CreateToolJson()
    {
        var options = new System.Text.Json.JsonSerializerOptions(ModelContextProtocol.McpJsonUtilities.DefaultOptions);
        options.TypeInfoResolverChain.Add(Runable.Box.Protocol.Serialization.BoxJsonContext.Default);
        options.MakeReadOnly();
        return options;
    }

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
            .WithTools<CodeTools>()
            .WithTools<DesktopTools>(ToolJson);
        return services;
    }
}
