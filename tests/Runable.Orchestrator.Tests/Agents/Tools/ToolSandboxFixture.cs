using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Runable.Box.Client;
using Runable.Orchestrator.Agents.Tools;

namespace Runable.Orchestrator.Tests.Agents.Tools;

/// <summary>
/// A real orchestrator, one bubblewrap sandbox in it, and the agent's tool set over that sandbox's box, called the way
/// the agent loop calls it: through each <see cref="AIFunction"/> with the arguments a model sent as JSON.
/// </summary>
public sealed class ToolSandboxFixture : IAsyncLifetime
{
    private readonly OrchestratorFixture _orchestrator = new();
    private string? _sandboxId;
    private ToolResult? _last;

    /// <summary>How long a bash command may run in these tests.</summary>
    public static TimeSpan BashTimeout { get; } = TimeSpan.FromSeconds(3);

    public BoxClient Box { get; private set; } = null!;

    public AgentToolSet Tools { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await _orchestrator.InitializeAsync();
        using var client = _orchestrator.Client(_orchestrator.AdminKey);
        using var response = await client.PostAsJsonAsync("v1/sandboxes", new { });
        response.EnsureSuccessStatusCode();
        _sandboxId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        Box = new BoxClient(new Uri(_orchestrator.BaseAddress, $"v1/sandboxes/{_sandboxId}/box/"), _orchestrator.AdminKey);
        Tools = await AgentToolSet.CreateAsync(Box, new AgentToolOptions { BashTimeout = BashTimeout });
        Tools.Completed += result => _last = result;
    }

    /// <summary>Calls <paramref name="tool"/> through its <see cref="AIFunction"/> with <paramref name="json"/> as a model would send it.</summary>
    public Task<ToolCall> CallAsync(string tool, string json)
    {
        var arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!
            .ToDictionary(p => p.Key, p => (object?)p.Value);
        return CallAsync(tool, arguments);
    }

    /// <summary>Calls <paramref name="tool"/> through its <see cref="AIFunction"/> with plain values, as code would.</summary>
    public async Task<ToolCall> CallAsync(string tool, IDictionary<string, object?> arguments)
    {
        var function = Tools.Functions.Single(f => f.Name == tool);
        _last = null;
        var value = await function.InvokeAsync(new AIFunctionArguments(arguments), TestContext.Current.CancellationToken);
        var result = _last ?? throw new InvalidOperationException("The tool set reported no result.");
        return value switch
        {
            string text => new ToolCall(text, [], result),
            IList<AIContent> contents => new ToolCall(string.Concat(contents.OfType<TextContent>().Select(t => t.Text)), [.. contents.OfType<DataContent>()], result),
            _ => throw new InvalidOperationException($"A tool returned {value?.GetType().Name ?? "null"}."),
        };
    }

    /// <summary>Runs a command in the sandbox directly, outside the tools, to check what they did.</summary>
    public async Task<string> ShellAsync(string command)
    {
        var result = await Box.ExecAsync(command, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.ExitCode == 0, $"{command}: {result.Stderr}");
        return result.Stdout;
    }

    public async ValueTask DisposeAsync()
    {
        if (Tools is not null)
        {
            await Tools.DisposeAsync();
        }

        if (_sandboxId is not null)
        {
            using var client = _orchestrator.Client(_orchestrator.AdminKey);
            await client.DeleteAsync($"v1/sandboxes/{_sandboxId}");
        }

        Box?.Dispose();
        await _orchestrator.DisposeAsync();
    }
}
