using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Runable.Box.Server.Tests.Files;

public sealed class FileMcpToolsTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FileTools_AreListedWithTheirArguments()
    {
        await using var client = await ConnectAsync();
        var tools = (await client.ListToolsAsync(cancellationToken: Ct)).ToDictionary(t => t.Name);
        foreach (var (name, argument) in new[] { ("file_read", "path"), ("file_write", "content"), ("file_edit", "old_str"), ("file_list", "depth"), ("file_search", "pattern") })
        {
            Assert.True(tools.TryGetValue(name, out var tool), $"{name} is missing");
            Assert.False(string.IsNullOrWhiteSpace(tool.Description));
            Assert.True(tool.JsonSchema.GetProperty("properties").TryGetProperty(argument, out _), $"{name} lacks {argument}");
        }
    }

    [Fact]
    public async Task FileTools_WriteReadEditListSearch_WorkOnTheWorkspace()
    {
        await using var client = await ConnectAsync();
        Assert.Contains("\"size\":12", await CallAsync(client, "file_write", new() { ["path"] = "mcp/app.py", ["content"] = "a = 1\nb = 2\n" }));
        Assert.Equal("a = 1\nb = 2\n", await File.ReadAllTextAsync(Path.Combine(box.Workspace, "mcp/app.py"), Ct));

        var read = await CallAsync(client, "file_read", new() { ["path"] = "mcp/app.py", ["start_line"] = 2 });
        Assert.StartsWith("     2\tb = 2\n", read, StringComparison.Ordinal);
        Assert.Contains("[lines 2-2 of 2]", read, StringComparison.Ordinal);

        var diff = await CallAsync(client, "file_edit", new() { ["path"] = "mcp/app.py", ["old_str"] = "b = 2", ["new_str"] = "b = 3" });
        Assert.Contains("-b = 2\n+b = 3\n", diff, StringComparison.Ordinal);
        Assert.Equal("a = 1\nb = 3\n", await File.ReadAllTextAsync(Path.Combine(box.Workspace, "mcp/app.py"), Ct));

        Assert.Contains("mcp/app.py  (12 bytes)", await CallAsync(client, "file_list", new() { ["path"] = "mcp" }), StringComparison.Ordinal);
        Assert.Equal("mcp/app.py:2: b = 3\n", await CallAsync(client, "file_search", new() { ["pattern"] = "b = ", ["path"] = "mcp" }));
    }

    [Fact]
    public async Task FileTools_Failures_AreToolErrorsNamingTheCode()
    {
        await using var client = await ConnectAsync();
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "twice.txt"), "x x", Ct);
        Assert.Contains("path_outside_workspace", await CallErrorAsync(client, "file_read", new() { ["path"] = "../etc/passwd" }), StringComparison.Ordinal);
        Assert.Contains("path_outside_workspace", await CallErrorAsync(client, "file_write", new() { ["path"] = "/etc/evil", ["content"] = "x" }), StringComparison.Ordinal);
        Assert.Contains("edit_ambiguous", await CallErrorAsync(client, "file_edit", new() { ["path"] = "twice.txt", ["old_str"] = "x", ["new_str"] = "y" }), StringComparison.Ordinal);
        Assert.False(File.Exists("/etc/evil"));
    }

    private static async Task<string> CallAsync(McpClient client, string tool, Dictionary<string, object?> arguments)
    {
        var result = await client.CallToolAsync(tool, arguments, cancellationToken: Ct);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        Assert.True(result.IsError != true, $"{tool} failed: {text}");
        return text;
    }

    private static async Task<string> CallErrorAsync(McpClient client, string tool, Dictionary<string, object?> arguments)
    {
        var result = await client.CallToolAsync(tool, arguments, cancellationToken: Ct);
        Assert.True(result.IsError);
        return Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
    }

    private async Task<McpClient> ConnectAsync()
    {
        var options = new HttpClientTransportOptions
        {
            Endpoint = new Uri(box.BaseAddress, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["X-API-Key"] = BoxServerFixture.ApiKey },
        };
        return await McpClient.CreateAsync(new HttpClientTransport(options), cancellationToken: Ct);
    }
}
