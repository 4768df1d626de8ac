using System.Net.Http.Json;
using System.Text.Json;
using Runable.Box.Client;

namespace Runable.Orchestrator.Tests;

/// <summary>Stateful code through the orchestrator, in kernels inside a bubblewrap sandbox.</summary>
public sealed class CodeInSandboxTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PythonAndTypeScript_KeepStateInsideASandbox()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var response = await client.PostAsJsonAsync("v1/sandboxes", new { }, Ct);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), orchestrator.AdminKey);

        await box.ExecCodeAsync("import os\nx = 1", cancellationToken: Ct);
        var python = await box.ExecCodeAsync("print(x + 1, os.getcwd(), os.getuid())", cancellationToken: Ct);
        Assert.True(python.Status == "ok", python.Stderr);
        Assert.Equal("2 /workspace 1000\n", python.Stdout);

        var plot = await box.ExecCodeAsync("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()", cancellationToken: Ct);
        Assert.True(plot.Status == "ok", plot.Stderr);
        Assert.Contains(plot.Outputs, o => o.Type == "display" && o.Data?["image/png"] is not null);

        await box.ExecCodeAsync("let y = 20", language: "typescript", cancellationToken: Ct);
        var typescript = await box.ExecCodeAsync("y + 1", language: "typescript", cancellationToken: Ct);
        Assert.True(typescript.Status == "ok", typescript.Stderr);
        Assert.Equal("21\n", typescript.Stdout);

        var mixed = await box.ExecCodeAsync("import sys\nprint('out')\nprint('err', file=sys.stderr)\n7 * 6", cancellationToken: Ct);
        Assert.Equal(["stream", "stream", "result"], mixed.Outputs.Select(o => o.Type));
        Assert.Equal(("out\n42\n", "err\n"), (mixed.Stdout, mixed.Stderr));
        var raised = await box.ExecCodeAsync("raise ValueError('bad')", cancellationToken: Ct);
        Assert.Equal(("error", "ValueError", "bad"), (raised.Status, raised.Outputs.Single().Ename, raised.Outputs.Single().Evalue));

        var running = box.ExecCodeAsync("import time\nfor _ in range(600): time.sleep(0.1)", cancellationToken: Ct);
        await Task.Delay(700, Ct);
        await box.InterruptContextAsync("default-python", Ct);
        Assert.Equal("KeyboardInterrupt", (await running).Outputs.Single(o => o.Type == "error").Ename);

        var looping = await box.ExecCodeAsync("while True: pass", timeoutSeconds: 1, cancellationToken: Ct);
        Assert.Equal("timeout", looping.Status);
        Assert.Equal("1\n", (await box.ExecCodeAsync("print(x)", cancellationToken: Ct)).Stdout);

        // Nothing of the kernels' own settings lands in the workspace (the sandbox's HOME).
        var listing = await box.ExecAsync("ls -A /workspace", cancellationToken: Ct);
        Assert.Equal("", listing.Stdout);
        await client.DeleteAsync($"v1/sandboxes/{id}", Ct);
    }

    [Fact]
    public async Task KilledKernel_Restart_AndTenParallelContexts_InsideASandbox()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var response = await client.PostAsJsonAsync("v1/sandboxes", new { limits = new { memory_mb = 2048 } }, Ct);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), orchestrator.AdminKey);

        await box.ExecCodeAsync("state = 'kept'", cancellationToken: Ct);
        var dying = await box.ExecCodeAsync("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", cancellationToken: Ct);
        Assert.Equal("KernelDied", dying.Outputs.Last().Ename);
        await box.RestartContextAsync("default-python", Ct);
        Assert.Equal("NameError", (await box.ExecCodeAsync("state", cancellationToken: Ct)).Outputs.Single().Ename);

        var contexts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => box.CreateContextAsync(cancellationToken: Ct)));
        var results = await Task.WhenAll(contexts.Select((context, i) => box.ExecCodeAsync($"import time; time.sleep(0.5); {i} * 2", contextId: context.ContextId, cancellationToken: Ct)));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"{i * 2}"), results.Select(r => (string?)r.Outputs.Single().Data?["text/plain"]));
        await client.DeleteAsync($"v1/sandboxes/{id}", Ct);
    }
}
