using System.Diagnostics;
using Runable.Box.Protocol;

namespace Runable.Box.Server.Tests.Code;

/// <summary>Stateful Python through <c>/code</c>, against real ipykernel kernels.</summary>
public sealed class CodeExecTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Python_KeepsStateBetweenCalls_AndKeepsStreamsResultsAndErrorsApart()
    {
        var first = await box.Client.ExecCodeAsync("x = 1", cancellationToken: Ct);
        Assert.Equal("ok", first.Status);
        Assert.Equal("default-python", first.ContextId);

        var second = await box.Client.ExecCodeAsync("import sys\nprint(x + 1)\nprint('warn', file=sys.stderr)\nx * 40 + 1", cancellationToken: Ct);
        Assert.Equal("ok", second.Status);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(["stream", "stream", "result"], second.Outputs.Select(o => o.Type));
        Assert.Equal("2\n", second.Outputs[0].Text);
        Assert.Equal("stderr", second.Outputs[1].Name);
        Assert.Equal("41", (string?)second.Outputs[2].Data?["text/plain"]);
        Assert.Equal("2\n41\n", second.Stdout);
        Assert.Equal("warn\n", second.Stderr);

        var error = await box.Client.ExecCodeAsync("1 / 0", cancellationToken: Ct);
        Assert.Equal("error", error.Status);
        Assert.Equal(1, error.ExitCode);
        var raised = Assert.Single(error.Outputs);
        Assert.Equal("ZeroDivisionError", raised.Ename);
        Assert.Contains("ZeroDivisionError", error.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", error.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TypeScript_KeepsStateBetweenCalls()
    {
        var first = await box.Client.ExecCodeAsync("let x: number = 1;\nconsole.log('typed', typeof x);", language: "typescript", cancellationToken: Ct);
        Assert.True(first.Status == "ok", first.Stderr);
        Assert.Equal("default-typescript", first.ContextId);
        Assert.Equal("typed number\n", first.Stdout);

        var second = await box.Client.ExecCodeAsync("x + 1", language: "typescript", cancellationToken: Ct);
        Assert.Equal("2\n", second.Stdout); // tslab prints the last expression's value, as node's REPL does

        var error = await box.Client.ExecCodeAsync("const s: string = 42;", language: "typescript", cancellationToken: Ct);
        Assert.Equal("error", error.Status);
        Assert.Contains("not assignable to type 'string'", error.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Python_RunsInTheWorkspace_AndReturnsAMatplotlibFigureAsPng()
    {
        var cwd = await box.Client.ExecCodeAsync("import os; os.getcwd()", cancellationToken: Ct);
        Assert.Equal($"'{box.Workspace}'", (string?)cwd.Outputs.Single().Data?["text/plain"]);

        var plot = await box.Client.ExecCodeAsync(
            "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.show()", cancellationToken: Ct);
        Assert.Equal("ok", plot.Status);
        var png = Convert.FromBase64String((string)plot.Outputs.Single(o => o.Type == "display").Data!["image/png"]!);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);

        // The kernel keeps its settings and history out of the workspace.
        Assert.Empty(Directory.GetFileSystemEntries(box.Workspace, ".*"));
    }

    [Fact]
    public async Task Timeout_InterruptsTheKernel_AndTheContextKeepsItsState()
    {
        var context = await box.Client.CreateContextAsync(cancellationToken: Ct);
        await box.Client.ExecCodeAsync("kept = 'yes'", contextId: context.ContextId, cancellationToken: Ct);

        var watch = Stopwatch.StartNew();
        var looping = await box.Client.ExecCodeAsync("while True: pass", contextId: context.ContextId, timeoutSeconds: 1, cancellationToken: Ct);
        Assert.Equal("timeout", looping.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");
        Assert.Contains("KeyboardInterrupt", looping.Stderr, StringComparison.Ordinal);

        var after = await box.Client.ExecCodeAsync("print(kept)", contextId: context.ContextId, cancellationToken: Ct);
        Assert.True(after.Stdout == "yes\n", $"after the timeout: status {after.Status}, stdout '{after.Stdout}', stderr '{after.Stderr}'");
    }

    [Fact]
    public async Task Interrupt_StopsARunningCall()
    {
        var context = await box.Client.CreateContextAsync(cancellationToken: Ct);
        await box.Client.ExecCodeAsync("1", contextId: context.ContextId, cancellationToken: Ct);
        var running = box.Client.ExecCodeAsync("import time\nfor i in range(600): time.sleep(0.1)", contextId: context.ContextId, cancellationToken: Ct);
        await Task.Delay(700, Ct);
        Assert.Equal("busy", (await box.Client.ListContextsAsync(Ct)).Single(c => c.ContextId == context.ContextId).State);

        await box.Client.InterruptContextAsync(context.ContextId, Ct);
        var result = await running;
        Assert.Equal("error", result.Status);
        Assert.Equal("KeyboardInterrupt", result.Outputs.Single(o => o.Type == "error").Ename);
    }

    [Fact]
    public async Task Restart_ClearsState()
    {
        var context = await box.Client.CreateContextAsync(cancellationToken: Ct);
        await box.Client.ExecCodeAsync("gone = 1", contextId: context.ContextId, cancellationToken: Ct);
        await box.Client.RestartContextAsync(context.ContextId, Ct);

        var result = await box.Client.ExecCodeAsync("gone", contextId: context.ContextId, cancellationToken: Ct);
        Assert.Equal("NameError", result.Outputs.Single().Ename);
    }

    [Fact]
    public async Task KilledKernel_IsReported_AndRecoversOnRestart()
    {
        var context = await box.Client.CreateContextAsync(cancellationToken: Ct);
        var pid = (await box.Client.ExecCodeAsync("import os; os.getpid()", contextId: context.ContextId, cancellationToken: Ct)).Outputs.Single().Data!["text/plain"]!.ToString();

        var dying = await box.Client.ExecCodeAsync($"import os, signal; os.kill({pid}, signal.SIGKILL)", contextId: context.ContextId, cancellationToken: Ct);
        Assert.Equal("error", dying.Status);
        Assert.Equal("KernelDied", dying.Outputs.Last().Ename);
        Assert.Contains("signal 9", dying.Stderr, StringComparison.Ordinal);
        Assert.Equal("dead", (await box.Client.ListContextsAsync(Ct)).Single(c => c.ContextId == context.ContextId).State);

        var refused = await Assert.ThrowsAsync<BoxException>(() => box.Client.ExecCodeAsync("1", contextId: context.ContextId, cancellationToken: Ct));
        Assert.Equal(BoxErrorCodes.KernelDead, refused.Code);
        Assert.Contains("/restart", refused.Message, StringComparison.Ordinal);

        await box.Client.RestartContextAsync(context.ContextId, Ct);
        Assert.Equal("2\n", (await box.Client.ExecCodeAsync("print(1 + 1)", contextId: context.ContextId, cancellationToken: Ct)).Stdout);
    }

    [Fact]
    public async Task TenContexts_RunInParallel_EachInOrder()
    {
        var contexts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => box.Client.CreateContextAsync(cancellationToken: Ct)));
        await Task.WhenAll(contexts.Select((context, i) => box.Client.ExecCodeAsync($"import time\nmine = [{i}]", contextId: context.ContextId, cancellationToken: Ct)));

        // Three calls at once to each of ten contexts: each context runs its calls one at a time (every call sees
        // the list as the previous one left it), and the contexts run side by side (not 10 x 3 x 0.4 s).
        var watch = Stopwatch.StartNew();
        var results = await Task.WhenAll(contexts.Select(async (context, i) =>
        {
            var calls = Enumerable.Range(1, 3).Select(j => box.Client.ExecCodeAsync(
                $"n = len(mine); time.sleep(0.4); mine.append(n); mine", contextId: context.ContextId, cancellationToken: Ct));
            await Task.WhenAll(calls);
            return (i, await box.Client.ExecCodeAsync("mine", contextId: context.ContextId, cancellationToken: Ct));
        }));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"ten contexts took {watch.Elapsed.TotalSeconds:0.0} s: they did not run in parallel");
        foreach (var (i, final) in results)
        {
            Assert.Equal($"[{i}, 1, 2, 3]", (string?)final.Outputs.Single().Data?["text/plain"]);
        }

        foreach (var context in contexts)
        {
            await box.Client.DeleteContextAsync(context.ContextId, Ct);
        }
    }

    [Fact]
    public async Task HugeOutput_IsCutInline_AndAllOfItIsReadable()
    {
        var result = await box.Client.ExecCodeAsync("for i in range(40000): print(f'line {i:05d} é')", cancellationToken: Ct);
        Assert.True(result.Truncated);
        Assert.True(result.Stdout.Length < 70 * 1024, $"{result.Stdout.Length} characters inline");
        Assert.StartsWith("line 00000 é\n", result.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("line 39999 é\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"/code/outputs/{result.OutputId}", result.Stdout, StringComparison.Ordinal);

        var whole = new System.Text.StringBuilder();
        long offset = 0;
        while (true)
        {
            var page = await box.Client.ReadCodeOutputAsync(result.OutputId!, offset: offset, limit: 100_001, cancellationToken: Ct);
            whole.Append(page.Data);
            offset = page.NextOffset;
            if (page.Eof)
            {
                break;
            }
        }

        var lines = whole.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(40000, lines.Length);
        Assert.All(lines.Select((line, i) => (line, i)), p => Assert.Equal($"line {p.i:D5} é", p.line));
    }

    [Fact]
    public async Task SeedCompatibleBody_CodeLanguageTimeout_Works()
    {
        using var http = box.Http();
        using var response = await http.PostAsync("code/exec", new StringContent("""{"code": "print('seed')", "language": "python", "timeout": 30}""",
            System.Text.Encoding.UTF8, "application/json"), Ct);
        var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("seed\n", json.GetProperty("stdout").GetString());
        Assert.Equal(0, json.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task BadRequests_AreClear4xx()
    {
        var language = await Assert.ThrowsAsync<BoxException>(() => box.Client.ExecCodeAsync("1", language: "cobol", cancellationToken: Ct));
        Assert.Contains("Unknown language 'cobol'", language.Message, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<BoxException>(() => box.Client.ExecCodeAsync("1", contextId: "ctx_nope", cancellationToken: Ct));
        Assert.Equal(BoxErrorCodes.ContextNotFound, missing.Code);
    }
}
