using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Runable.Box.Code.Jupyter;
using Runable.Box.Server.Jupyter;

namespace Runable.Box.Server.Tests.Jupyter;

/// <summary>A box with a real ipykernel started the way the box's kernel layer starts them (its connection file in <c>kernels/</c>).</summary>
public sealed class JupyterFixture : IAsyncLifetime
{
    private Process? _kernel;

    public BoxServerFixture Box { get; } = new();

    /// <summary>The kernel's id: its connection file's name.</summary>
    public string KernelId { get; } = Guid.NewGuid().ToString();

    public string KernelsDirectory => Box.Services.GetRequiredService<BoxState>().StatePath("kernels");

    public async ValueTask InitializeAsync()
    {
        await Box.InitializeAsync();
        _kernel = StartKernel(KernelId);
    }

    /// <summary>Starts ipykernel in its own process group with the workspace as its directory and writes the contract's file.</summary>
    public Process StartKernel(string id)
    {
        var ports = new List<Socket>();
        for (var i = 0; i < 5; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            ports.Add(socket);
        }

        var info = new JsonObject
        {
            ["shell_port"] = Port(ports[0]), ["iopub_port"] = Port(ports[1]), ["stdin_port"] = Port(ports[2]),
            ["control_port"] = Port(ports[3]), ["hb_port"] = Port(ports[4]), ["ip"] = "127.0.0.1",
            ["key"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant(),
            ["transport"] = "tcp", ["signature_scheme"] = "hmac-sha256", ["kernel_name"] = "python3",
        };
        ports.ForEach(s => s.Dispose());

        // The kernel rewrites its own -f file with the standard fields only, so it gets a private copy and the
        // box's directory gets the contract's file (with the pid) once the process runs.
        var own = Path.Combine(Box.Services.GetRequiredService<BoxState>().StatePath("test-kernels"), id + ".json");
        File.WriteAllText(own, info.ToJsonString());
        var start = new ProcessStartInfo("setsid", ["--", "/usr/bin/python3", "-m", "ipykernel_launcher", "-f", own])
        {
            WorkingDirectory = Box.Workspace,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PYDEVD_DISABLE_FILE_VALIDATION"] = "1";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        info["runable_pid"] = process.Id;
        info["runable_context_id"] = "test-" + id[..8];
        File.WriteAllText(Path.Combine(KernelsDirectory, id + ".json"), info.ToJsonString());
        return process;
    }

    private static int Port(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    public async ValueTask DisposeAsync()
    {
        if (_kernel is not null)
        {
            try
            {
                Process.Start("kill", ["-KILL", "--", "-" + _kernel.Id])?.WaitForExit();
            }
            finally
            {
                _kernel.Dispose();
            }
        }

        await Box.DisposeAsync();
    }
}

/// <summary>The live Jupyter view at <c>/jupyter/</c>: behind the box's key, sharing the box's kernels.</summary>
public sealed class JupyterTests(JupyterFixture fixture) : IClassFixture<JupyterFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private BoxServerFixture Box => fixture.Box;

    [Fact]
    public async Task WithoutTheKey_TheViewIsUnauthorized()
    {
        using var anonymous = Box.AnonymousHttp();
        using var response = await anonymous.GetAsync("jupyter/api/kernels", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        using var socket = new ClientWebSocket();
        await Assert.ThrowsAnyAsync<WebSocketException>(() =>
            socket.ConnectAsync(WebSocketUri($"jupyter/api/kernels/{fixture.KernelId}/channels"), Ct));
    }

    [Fact]
    public async Task TheBoxKernel_IsListed_AndSharesItsStateAcrossSessions()
    {
        var kernels = await ListKernelsAsync();
        Assert.Contains(fixture.KernelId, kernels);

        using var person = await JupyterSession.OpenAsync(WebSocketUri($"jupyter/api/kernels/{fixture.KernelId}/channels"));
        using var agent = await JupyterSession.OpenAsync(WebSocketUri($"jupyter/api/kernels/{fixture.KernelId}/channels"));
        Assert.Equal("ok", (await person.ExecuteAsync("shared = 41 + 1")).Status);
        var read = await agent.ExecuteAsync("print(shared)\nimport os; os.getcwd()");
        Assert.Equal("ok", read.Status);
        Assert.Equal("42\n", read.Stdout);
        Assert.Equal($"'{Box.Workspace}'", read.Result);
    }

    [Fact]
    public async Task TheKernelOfCode_IsSharedBothWays()
    {
        var exec = await Box.Client.ExecCodeAsync("agent_var = 5", cancellationToken: Ct);
        Assert.Equal("ok", exec.Status);
        var context = (await Box.Client.ListContextsAsync(Ct)).Single(c => c.ContextId == "default-python");
        Assert.NotNull(context.KernelId);
        Assert.Contains(context.KernelId, await ListKernelsAsync());

        using var person = await JupyterSession.OpenAsync(WebSocketUri($"jupyter/api/kernels/{context.KernelId}/channels"));
        var seen = await person.ExecuteAsync("print(agent_var)\nfrom_person = 'hi'");
        Assert.Equal("5\n", seen.Stdout);

        var back = await Box.Client.ExecCodeAsync("from_person", cancellationToken: Ct);
        Assert.Equal("'hi'\n", back.Stdout);
    }

    [Fact]
    public async Task ClosingOrShuttingDownTheBoxKernel_FromJupyter_LeavesItRunning()
    {
        using var http = Box.Http();
        using var shutdown = await http.DeleteAsync($"jupyter/api/kernels/{fixture.KernelId}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, shutdown.StatusCode);
        using var restart = await http.PostAsync($"jupyter/api/kernels/{fixture.KernelId}/restart", null, Ct);
        Assert.False(restart.IsSuccessStatusCode);

        Assert.Contains(fixture.KernelId, await ListKernelsAsync());
        using var session = await JupyterSession.OpenAsync(WebSocketUri($"jupyter/api/kernels/{fixture.KernelId}/channels"));
        Assert.Equal("3\n", (await session.ExecuteAsync("print(1 + 2)")).Stdout);
    }

    [Fact]
    public async Task AKernelWhoseFileIsDeleted_Disappears()
    {
        var id = Guid.NewGuid().ToString();
        using var kernel = fixture.StartKernel(id);
        try
        {
            Assert.Contains(id, await ListKernelsAsync());
            File.Delete(Path.Combine(fixture.KernelsDirectory, id + ".json"));
            Assert.DoesNotContain(id, await ListKernelsAsync());

            using var http = Box.Http();
            using var gone = await http.GetAsync($"jupyter/api/kernels/{id}", Ct);
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        finally
        {
            Process.Start("kill", ["-KILL", "--", "-" + kernel.Id])?.WaitForExit();
        }
    }

    [Fact]
    public async Task TheNotebookPages_AnswerWithTheKey_AndAKeyInTheQuerySetsTheCookie()
    {
        using var http = Box.Http();
        using var tree = await http.GetAsync("jupyter/tree", Ct);
        Assert.Equal(HttpStatusCode.OK, tree.StatusCode);
        Assert.Equal("text/html", tree.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/jupyter/", await tree.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Box.BaseAddress };
        using var bare = await noRedirects.GetAsync($"jupyter?api_key={BoxServerFixture.ApiKey}", Ct);
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal($"jupyter/?api_key={BoxServerFixture.ApiKey}", bare.Headers.Location?.OriginalString);

        using var browser = await noRedirects.GetAsync($"jupyter/tree?api_key={BoxServerFixture.ApiKey}", Ct);
        Assert.Equal(HttpStatusCode.OK, browser.StatusCode);
        Assert.Contains(browser.Headers.GetValues("Set-Cookie"), c => c.StartsWith("runable_key=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StoppingTheBox_StopsItsJupyterServer()
    {
        var box = new BoxServerFixture();
        await box.InitializeAsync();
        int pid;
        try
        {
            using var http = box.Http();
            using var status = await http.GetAsync("jupyter/api/status", Ct);
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            pid = box.Services.GetRequiredService<JupyterServer>().Current!.ProcessId;
            Assert.NotEmpty(ProcessGroups.Members(pid));
        }
        finally
        {
            await box.DisposeAsync();
        }

        Assert.True(await ProcessGroups.WaitUntilGoneAsync(pid, TimeSpan.FromSeconds(10)), "Jupyter outlived the box");
    }

    [Fact]
    public void TheQueryLosesOnlyTheBoxKey()
    {
        Assert.Equal("?a=1&b=%20", JupyterEndpoints.QueryWithoutKey(new Microsoft.AspNetCore.Http.QueryString("?api_key=k&a=1&b=%20")));
        Assert.Equal("", JupyterEndpoints.QueryWithoutKey(new Microsoft.AspNetCore.Http.QueryString("?api_key=k")));
    }

    private async Task<List<string>> ListKernelsAsync()
    {
        using var http = Box.Http();
        var list = JsonNode.Parse(await http.GetStringAsync("jupyter/api/kernels", Ct))!.AsArray();
        return list.Select(k => (string)k!["id"]!).ToList();
    }

    private Uri WebSocketUri(string path) =>
        new(new Uri(Box.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), path + $"?session_id={Guid.NewGuid():N}");

    /// <summary>One client of a kernel over Jupyter's channels WebSocket, as a notebook page is.</summary>
    private sealed class JupyterSession : IDisposable
    {
        private readonly ClientWebSocket _socket;
        private readonly string _session = Guid.NewGuid().ToString("N");

        private JupyterSession(ClientWebSocket socket) => _socket = socket;

        public static async Task<JupyterSession> OpenAsync(Uri uri)
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("X-API-Key", BoxServerFixture.ApiKey);
            await socket.ConnectAsync(uri, Ct);
            return new JupyterSession(socket);
        }

        public async Task<(string Status, string Stdout, string? Result)> ExecuteAsync(string code)
        {
            var id = Guid.NewGuid().ToString("N");
            var request = new JsonObject
            {
                ["header"] = new JsonObject
                {
                    ["msg_id"] = id, ["username"] = "test", ["session"] = _session, ["msg_type"] = "execute_request",
                    ["version"] = "5.3", ["date"] = DateTime.UtcNow.ToString("O"),
                },
                ["parent_header"] = new JsonObject(),
                ["metadata"] = new JsonObject(),
                ["content"] = new JsonObject
                {
                    ["code"] = code, ["silent"] = false, ["store_history"] = true, ["user_expressions"] = new JsonObject(),
                    ["allow_stdin"] = false, ["stop_on_error"] = true,
                },
                ["channel"] = "shell",
                ["buffers"] = new JsonArray(),
            };
            await _socket.SendAsync(Encoding.UTF8.GetBytes(request.ToJsonString()), WebSocketMessageType.Text, true, Ct);

            var stdout = new StringBuilder();
            string? result = null;
            string? status = null;
            var idle = false;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            while (status is null || !idle)
            {
                var message = await ReceiveAsync(timeout.Token);
                if ((string?)message["parent_header"]?["msg_id"] != id)
                {
                    continue;
                }

                var content = message["content"]!;
                switch ((string?)message["msg_type"])
                {
                    case "stream":
                        stdout.Append((string?)content["text"]);
                        break;
                    case "execute_result":
                        result = (string?)content["data"]?["text/plain"];
                        break;
                    case "execute_reply":
                        status = (string?)content["status"];
                        break;
                    case "status":
                        idle = (string?)content["execution_state"] == "idle";
                        break;
                }
            }

            return (status, stdout.ToString(), result);
        }

        private async Task<JsonNode> ReceiveAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[64 * 1024];
            using var message = new MemoryStream();
            while (true)
            {
                var received = await _socket.ReceiveAsync(buffer, cancellationToken);
                Assert.NotEqual(WebSocketMessageType.Close, received.MessageType);
                message.Write(buffer, 0, received.Count);
                if (received.EndOfMessage)
                {
                    return received.MessageType == WebSocketMessageType.Text
                        ? JsonNode.Parse(message.ToArray())!
                        : new JsonObject(); // binary messages carry buffers, which these tests do not use
                }
            }
        }

        public void Dispose() => _socket.Dispose();
    }
}
