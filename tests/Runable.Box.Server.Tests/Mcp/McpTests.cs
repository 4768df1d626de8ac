using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Runable.Box.Server.Tests.Mcp;

public sealed class McpTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Mcp_ClientSession_InitializesListsAndCallsTools()
    {
        await using var client = await ConnectAsync(BoxServerFixture.ApiKey);
        Assert.Equal("runable-box", client.ServerInfo?.Name);

        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        var names = tools.Select(t => t.Name).ToHashSet();
        Assert.Contains("shell_exec", names);
        Assert.Contains("process_start", names);
        Assert.Contains("process_output", names);
        var exec = tools.Single(t => t.Name == "shell_exec");
        Assert.Contains("timeout", exec.Description ?? "", StringComparison.OrdinalIgnoreCase);
        Assert.True(exec.JsonSchema.GetProperty("properties").TryGetProperty("command", out _));

        var result = await client.CallToolAsync("shell_exec", new Dictionary<string, object?> { ["command"] = "echo from-mcp; exit 2" }, cancellationToken: Ct);
        Assert.NotEqual(true, result.IsError);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        var json = JsonDocument.Parse(text).RootElement;
        Assert.Equal("from-mcp\n", json.GetProperty("stdout").GetString());
        Assert.Equal(2, json.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task Mcp_CodeExec_KeepsStateAndReturnsFiguresAsImages()
    {
        await using var client = await ConnectAsync(BoxServerFixture.ApiKey);
        await client.CallToolAsync("code_exec", new Dictionary<string, object?> { ["code"] = "import matplotlib.pyplot as plt\nxs = [1, 4, 9]" }, cancellationToken: Ct);

        var result = await client.CallToolAsync("code_exec", new Dictionary<string, object?> { ["code"] = "plt.plot(xs)\nplt.show()\nprint(sum(xs))" }, cancellationToken: Ct);
        Assert.NotEqual(true, result.IsError);
        var json = JsonDocument.Parse(Assert.IsType<TextContentBlock>(result.Content[0]).Text).RootElement;
        Assert.Equal("14\n", json.GetProperty("stdout").GetString());
        var image = Assert.IsType<ImageContentBlock>(Assert.Single(result.Content, c => c is ImageContentBlock));
        Assert.Equal("image/png", image.MimeType);
        Assert.Equal((byte)0x89, image.DecodedData.Span[0]);

        var failed = await client.CallToolAsync("code_exec", new Dictionary<string, object?> { ["code"] = "undefined_name" }, cancellationToken: Ct);
        Assert.True(failed.IsError);
        Assert.Contains("NameError", Assert.IsType<TextContentBlock>(failed.Content[0]).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mcp_ToolFailure_IsReportedAsToolErrorWithTheCode()
    {
        await using var client = await ConnectAsync(BoxServerFixture.ApiKey);
        var result = await client.CallToolAsync("process_output", new Dictionary<string, object?> { ["process_id"] = "proc_missing" }, cancellationToken: Ct);
        Assert.True(result.IsError);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        Assert.Contains("process_not_found", text);
    }

    [Fact]
    public async Task Mcp_WithoutKey_CannotConnect()
    {
        var error = await Assert.ThrowsAnyAsync<HttpRequestException>(() => ConnectAsync(null));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, error.StatusCode);
    }

    private async Task<McpClient> ConnectAsync(string? key)
    {
        var options = new HttpClientTransportOptions
        {
            Endpoint = new Uri(box.BaseAddress, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = key is null ? null : new Dictionary<string, string> { ["X-API-Key"] = key },
        };
        return await McpClient.CreateAsync(new HttpClientTransport(options), cancellationToken: Ct);
    }
}
