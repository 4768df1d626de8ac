using ModelContextProtocol;
using Runable.Box.Protocol;

namespace Runable.Box.Server.Mcp;

/// <summary>Runs a tool body and turns the box's typed failures into MCP tool errors the model can read and act on.</summary>
internal static class McpToolErrors
{
    public static async Task<string> RunAsync(Func<Task<string>> body)
    {
        try
        {
            return await body();
        }
        catch (BoxException e)
        {
            throw new McpException($"{e.Code}: {e.Message}");
        }
    }

    public static Task<string> Run(Func<string> body) => RunAsync(() => Task.FromResult(body()));
}
