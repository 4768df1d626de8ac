using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runable.Box.Client;

namespace Runable.Orchestrator.Tests;

/// <summary>The Jupyter view of a sandbox, through the orchestrator: behind the caller's key, sharing the agent's kernels.</summary>
public sealed class JupyterInSandboxTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task JupyterView_NeedsTheKey_ListsTheAgentsKernel_AndSharesItsVariables()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var response = await client.PostAsJsonAsync("v1/sandboxes", new { }, Ct);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), orchestrator.AdminKey);
        await box.ExecCodeAsync("agent_value = 6 * 7", cancellationToken: Ct);
        var kernelId = (await box.ListContextsAsync(Ct)).Single(c => c.ContextId == "default-python").KernelId!;

        using var anonymous = orchestrator.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"v1/sandboxes/{id}/box/jupyter/api/kernels", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"v1/sandboxes/{id}/box/jupyter/", Ct)).StatusCode);

        // The root of the view through the orchestrator is Jupyter's own answer (its redirect to its tree), not the box's
        // redirect from "/jupyter" to "jupyter/", which a browser would resolve to ".../jupyter/jupyter/".
        using (var root = await client.GetAsync($"v1/sandboxes/{id}/box/jupyter/", Ct))
        {
            var landed = root.RequestMessage!.RequestUri!.ToString(); // redirects followed
            Assert.False(landed.Contains("jupyter/jupyter", StringComparison.Ordinal), landed);
            Assert.True(root.IsSuccessStatusCode, $"{(int)root.StatusCode} at {landed}");
        }

        var kernels = await client.GetStringAsync($"v1/sandboxes/{id}/box/jupyter/api/kernels", Ct);
        Assert.Contains(kernelId, kernels, StringComparison.Ordinal);

        // A cell run through Jupyter's own kernel channels sees the agent's variable, and the agent sees the cell's.
        using var socket = new ClientWebSocket();
        var url = new UriBuilder(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/jupyter/api/kernels/{kernelId}/channels"))
        {
            Scheme = "ws",
            Query = $"api_key={orchestrator.AdminKey}&session_id={Guid.NewGuid():N}",
        };
        await socket.ConnectAsync(url.Uri, Ct);
        var output = await RunCellAsync(socket, "person_value = agent_value + 1\nprint(agent_value)");
        Assert.Equal("42\n", output);
        Assert.Equal("43\n", (await box.ExecCodeAsync("print(person_value)", cancellationToken: Ct)).Stdout);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", Ct);
        await client.DeleteAsync($"v1/sandboxes/{id}", Ct);
    }

    /// <summary>Sends an execute_request on the shell channel and returns the cell's standard output.</summary>
    private static async Task<string> RunCellAsync(ClientWebSocket socket, string code)
    {
        var msgId = Guid.NewGuid().ToString("N");
        var request = new JsonObject
        {
            ["header"] = new JsonObject { ["msg_id"] = msgId, ["msg_type"] = "execute_request", ["username"] = "person", ["session"] = Guid.NewGuid().ToString("N"), ["version"] = "5.3", ["date"] = DateTimeOffset.UtcNow.ToString("O") },
            ["parent_header"] = new JsonObject(),
            ["metadata"] = new JsonObject(),
            ["content"] = new JsonObject { ["code"] = code, ["silent"] = false, ["store_history"] = true, ["user_expressions"] = new JsonObject(), ["allow_stdin"] = false },
            ["channel"] = "shell",
        };
        await socket.SendAsync(Encoding.UTF8.GetBytes(request.ToJsonString()), WebSocketMessageType.Text, true, Ct);

        var stdout = new StringBuilder();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await socket.ReceiveAsync(buffer, timeout.Token);
                message.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);

            if (received.MessageType != WebSocketMessageType.Text)
            {
                continue;
            }

            var json = JsonNode.Parse(message.ToArray())!;
            if ((string?)json["parent_header"]?["msg_id"] != msgId)
            {
                continue;
            }

            var type = (string?)json["header"]?["msg_type"] ?? (string?)json["msg_type"];
            if (type == "stream")
            {
                stdout.Append((string?)json["content"]?["text"]);
            }
            else if (type == "status" && (string?)json["content"]?["execution_state"] == "idle")
            {
                return stdout.ToString();
            }
        }
    }
}
