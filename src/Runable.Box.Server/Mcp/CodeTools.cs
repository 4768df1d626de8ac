using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Runable.Box.Code;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Code;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Server.Mcp;

/// <summary>Stateful code as an MCP tool; figures come back as image content the model can see.</summary>
[McpServerToolType]
public sealed class CodeTools(CodeService service)
{
    [McpServerTool(Name = "code_exec", Title = "Run Python or TypeScript in a persistent kernel")]
    [Description("Run code in a Jupyter kernel whose state (variables, imports, loaded data) persists between calls, like a notebook. " +
        "Returns JSON with status ('ok', 'error', 'timeout'), stdout, stderr (with tracebacks) and outputs in order; plots " +
        "(e.g. matplotlib's plt.show()) come back as images. The working directory is the workspace. After timeout_s seconds the " +
        "code is interrupted and the kernel keeps its state. Use context_id from code_context_create for a separate kernel.")]
    public async Task<CallToolResult> ExecAsync(
        [Description("The code to run, e.g. 'import pandas as pd\\ndf = pd.read_csv(\"data.csv\")\\ndf.describe()'.")] string code,
        [Description("'python' (default) or 'typescript'.")] string? language = null,
        [Description("A context from code_context_create; the language's default context when absent.")] string? context_id = null,
        [Description("Seconds before the code is interrupted (default 60).")] double? timeout_s = null,
        CancellationToken cancellationToken = default)
    {
        CodeExecResult result;
        try
        {
            result = await service.ExecuteAsync(new CodeExecRequest { Code = code, Language = language, ContextId = context_id, TimeoutS = timeout_s }, cancellationToken);
        }
        catch (BoxException e)
        {
            throw new McpException($"{e.Code}: {e.Message}");
        }

        // Images travel as image content; the JSON keeps a note of where each was.
        var images = new List<ContentBlock>();
        var outputs = result.Outputs.Select(output =>
        {
            if (output.Data?["image/png"] is { } png && (string?)png is { } base64)
            {
                images.Add(ImageContentBlock.FromBytes(Convert.FromBase64String(base64), "image/png"));
                var data = (System.Text.Json.Nodes.JsonObject)output.Data.DeepClone();
                data["image/png"] = $"[image {images.Count}, attached]";
                return output with { Data = data };
            }

            return output;
        }).ToList();
        var text = JsonSerializer.Serialize(result with { Outputs = outputs }, BoxJsonContext.Default.CodeExecResult);
        return new CallToolResult { Content = [new TextContentBlock { Text = text }, .. images], IsError = result.Status != "ok" };
    }

    [McpServerTool(Name = "code_context_create", Title = "Create a separate code context")]
    [Description("Create a separate kernel (its own variables and imports), for work that must not disturb the default context.")]
    public Task<string> CreateContextAsync(
        [Description("'python' (default) or 'typescript'.")] string? language = null,
        [Description("Working directory, relative to the workspace.")] string? cwd = null) =>
        McpToolErrors.Run(() => JsonSerializer.Serialize(service.Create(new CodeContextRequest { Language = language, Cwd = cwd }), BoxJsonContext.Default.CodeContextInfo));

    [McpServerTool(Name = "code_context_restart", Title = "Restart a code context")]
    [Description("Replace a context's kernel with a fresh one: all its variables are lost. Use it when the kernel died or is stuck.")]
    public Task<string> RestartContextAsync(
        [Description("The context, e.g. 'default-python'.")] string context_id,
        CancellationToken cancellationToken = default) =>
        McpToolErrors.RunAsync(async () => JsonSerializer.Serialize(await service.RestartAsync(context_id, cancellationToken), BoxJsonContext.Default.CodeContextInfo));
}
