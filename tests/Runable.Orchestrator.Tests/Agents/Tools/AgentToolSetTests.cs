using System.Text.Json;
using Runable.Orchestrator.Agents.Tools;

namespace Runable.Orchestrator.Tests.Agents.Tools;

/// <summary>The tool set as the agent loop sees it: which tools, their schemas, finish, and calls to unknown tools.</summary>
public sealed class AgentToolSetTests(ToolSandboxFixture sandbox) : IClassFixture<ToolSandboxFixture>
{
    [Fact]
    public async Task Functions_OfAFullSandbox_DeclareTheirRequiredArguments()
    {
        var health = await sandbox.Box.HealthAsync(TestContext.Current.CancellationToken);
        Assert.True(health.Features is { Shell: true, Python: true, Desktop: true }, "this host's sandboxes serve shell, python and desktop");

        var required = sandbox.Tools.Functions.ToDictionary(f => f.Name, f => f.JsonSchema.TryGetProperty("required", out var names)
            ? string.Join(",", names.EnumerateArray().Select(n => n.GetString()))
            : "");
        Assert.Equal(new Dictionary<string, string>
        {
            ["bash"] = "",
            ["str_replace_based_edit_tool"] = "command,path",
            ["code"] = "code",
            ["computer"] = "action",
            ["finish"] = "summary",
        }, required);
        foreach (var function in sandbox.Tools.Functions)
        {
            Assert.Equal("object", function.JsonSchema.GetProperty("type").GetString());
            Assert.All(function.JsonSchema.GetProperty("properties").EnumerateObject(), p => Assert.False(string.IsNullOrEmpty(p.Value.GetProperty("description").GetString()), p.Name));
            if (function.Name is "bash" or "str_replace_based_edit_tool" or "code")
            {
                Assert.Contains("/workspace", function.Description, StringComparison.Ordinal);
            }
        }

        var editor = sandbox.Tools.Functions.Single(f => f.Name == "str_replace_based_edit_tool").JsonSchema;
        Assert.Equal(["view", "create", "str_replace", "insert", "undo_edit"], editor.GetProperty("properties").GetProperty("command").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        var languages = sandbox.Tools.Functions.Single(f => f.Name == "code").JsonSchema.GetProperty("properties").GetProperty("language").GetProperty("enum");
        Assert.Equal(JsonValueKind.Array, languages.ValueKind);
        Assert.Equal("python", languages[0].GetString());
    }

    [Fact]
    public async Task Finish_RecordsTheSummary_OnlyWhenOneIsGiven()
    {
        var results = new List<ToolResult>();
        sandbox.Tools.Completed += results.Add;

        var empty = await sandbox.CallAsync("finish", """{"summary": "  "}""");
        Assert.StartsWith("Error: summary must not be empty", empty.Text, StringComparison.Ordinal);
        Assert.False(sandbox.Tools.IsFinished);

        var done = await sandbox.CallAsync("finish", """{"summary": "Fixed the parser; tests pass.", "success": true}""");
        Assert.Equal("The task is marked as done. Stop here.", done.Text);
        Assert.True(sandbox.Tools.IsFinished);
        Assert.Equal(new FinishReport("Fixed the parser; tests pass.", true), sandbox.Tools.Finished);
        Assert.Equal(["finish", "finish"], results.Select(r => r.Tool));
        Assert.Equal([true, false], results.Select(r => r.IsError));
    }

    [Fact]
    public async Task InvokeAsync_OfAnUnknownTool_IsAnErrorResultNamingTheTools()
    {
        var result = await sandbox.Tools.InvokeAsync("browser", new Dictionary<string, object?>(), TestContext.Current.CancellationToken);
        Assert.Equal("Error: there is no tool named 'browser'. The tools are: bash, str_replace_based_edit_tool, code, computer, finish.", result.Text);
        Assert.True(result.IsError);

        var direct = await sandbox.Tools.InvokeAsync("bash", new Dictionary<string, object?> { ["command"] = "echo direct" }, TestContext.Current.CancellationToken);
        Assert.Equal(("bash", "direct\n[exit code: 0]", false), (direct.Tool, direct.Text, direct.IsError));
        Assert.True(direct.Duration > TimeSpan.Zero);
    }
}
