using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Runable.Box.Protocol.Processes;
using Runable.Box.Protocol.Shell;

namespace Runable.Box.Server.Tests.Shell;

public sealed class ShellExecTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Exec_SimpleCommand_ReturnsOutputAndExitCodeInTheWorkspace()
    {
        var result = await box.Client.ExecAsync("pwd; echo oops >&2; exit 3", cancellationToken: Ct);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal(box.Workspace + "\n", result.Stdout);
        Assert.Equal("oops\n", result.Stderr);
        Assert.False(result.TimedOut);
        Assert.False(result.Truncated);
        Assert.NotNull(result.ProcessId);
    }

    [Fact]
    public async Task Exec_WithCwdEnvAndStdin_UsesThem()
    {
        Directory.CreateDirectory(Path.Combine(box.Workspace, "sub"));
        var result = await box.Client.ExecAsync(new ShellExecRequest
        {
            Command = "pwd; echo \"$GREETING\"; wc -l",
            Cwd = "sub",
            Env = new() { ["GREETING"] = "hello there" },
            Stdin = "one\ntwo\nthree\n",
        }, Ct);
        Assert.Equal($"{box.Workspace}/sub\nhello there\n3\n", result.Stdout);
    }

    [Fact]
    public async Task Exec_DoesNotLeakTheBoxKeyToCommands()
    {
        var result = await box.Client.ExecAsync("env", cancellationToken: Ct);
        Assert.DoesNotContain(BoxServerFixture.ApiKey, result.Stdout);
    }

    [Fact]
    public async Task Exec_CommandReadingStdinWithoutInput_SeesEndOfFile()
    {
        var result = await box.Client.ExecAsync("cat; echo done", timeoutSeconds: 10, cancellationToken: Ct);
        Assert.Equal("done\n", result.Stdout);
        Assert.False(result.TimedOut);
    }

    [Fact]
    public async Task Exec_TimeoutWithBackgroundMode_ReturnsHandleAndKeepsProcess()
    {
        var result = await box.Client.ExecAsync(new ShellExecRequest
        {
            Command = "for i in $(seq 1 100); do echo tick $i; sleep 0.1; done",
            TimeoutS = 0.5,
            OnTimeout = OnTimeout.Background,
        }, Ct);

        Assert.True(result.TimedOut);
        Assert.Null(result.ExitCode);
        Assert.Contains("tick 1\n", result.Stdout);
        var id = result.ProcessId!;
        var before = (await box.Client.GetProcessAsync(id, Ct)).StdoutBytes;
        await Task.Delay(600, Ct);
        var after = await box.Client.GetProcessAsync(id, Ct);
        Assert.Equal(ProcessStatus.Running, after.Status);
        Assert.True(after.StdoutBytes > before, "the backgrounded command's output should keep growing");
        await box.Client.SignalAsync(id, "KILL", Ct);
    }

    [Fact]
    public async Task Exec_TimeoutWithKillMode_LeavesNoProcessOfItsGroup()
    {
        var result = await box.Client.ExecAsync(new ShellExecRequest
        {
            Command = "sleep 300 & sleep 300 & echo started; wait",
            TimeoutS = 0.5,
            OnTimeout = OnTimeout.Kill,
        }, Ct);

        Assert.True(result.TimedOut);
        Assert.Equal("started\n", result.Stdout);
        Assert.Equal(137, result.ExitCode);
        var info = await box.Client.GetProcessAsync(result.ProcessId!, Ct);
        Assert.True(await ProcessGroups.WaitUntilGoneAsync(info.Pid, TimeSpan.FromSeconds(5)),
            $"processes of group {info.Pid} survived: {string.Join(", ", ProcessGroups.Members(info.Pid))}");
    }

    [Fact]
    public async Task Exec_50MegabytesOfOutput_CapsInlineKeepsMemoryFlatAndServesAllByOffset()
    {
        const string Command = "seq 1 6000000";
        GC.Collect();
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        var result = await box.Client.ExecAsync(Command, timeoutSeconds: 120, cancellationToken: Ct);
        var memoryAfter = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(0, result.ExitCode);
        Assert.True(result.Truncated);
        Assert.True(result.StdoutBytes > 45_000_000, $"expected ~47 MB of output, got {result.StdoutBytes}");
        Assert.True(Encoding.UTF8.GetByteCount(result.Stdout) < 64 * 1024 + 512, "inline stdout must stay within the cap");
        Assert.StartsWith("1\n2\n3\n", result.Stdout);
        Assert.EndsWith("5999999\n6000000\n", result.Stdout);
        Assert.Contains($"/processes/{result.ProcessId}/output", result.Stdout);
        Assert.True(memoryAfter - memoryBefore < 24 * 1024 * 1024, $"server memory grew by {(memoryAfter - memoryBefore) / 1024 / 1024} MB");

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long offset = 0, total = 0;
        while (true)
        {
            var page = await box.Client.ReadOutputAsync(result.ProcessId!, "stdout", offset, 4 * 1024 * 1024, cancellationToken: Ct);
            Assert.Equal(offset, page.Offset);
            var bytes = Encoding.UTF8.GetBytes(page.Data);
            hash.AppendData(bytes);
            total += bytes.Length;
            offset = page.NextOffset;
            if (page.Eof)
            {
                break;
            }
        }

        Assert.Equal(result.StdoutBytes, total);
        Assert.Equal(ExpectedSha256(Command), Convert.ToHexString(hash.GetHashAndReset()));
    }

    [Fact]
    public async Task Exec_InvalidUtf8AndNulBytes_AreReturnedLossyInlineAndExactAsBase64()
    {
        var result = await box.Client.ExecAsync(@"printf 'a\377\376b\000c\342\202'", cancellationToken: Ct);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("a\uFFFD\uFFFDb\0c\uFFFD", result.Stdout);
        Assert.Equal(8, result.StdoutBytes);

        var raw = await box.Client.ReadOutputAsync(result.ProcessId!, base64: true, cancellationToken: Ct);
        Assert.Equal(new byte[] { (byte)'a', 0xFF, 0xFE, (byte)'b', 0, (byte)'c', 0xE2, 0x82 }, Convert.FromBase64String(raw.Data));
        Assert.True(raw.Eof);
    }

    [Fact]
    public async Task Exec_ThirtyTwoConcurrentCalls_AllComplete()
    {
        var stopwatch = Stopwatch.StartNew();
        var calls = Enumerable.Range(1, 32).Select(i => box.Client.ExecAsync($"sleep 0.5; echo $(({i} * {i}))", cancellationToken: Ct)).ToArray();
        var results = await Task.WhenAll(calls);
        for (var i = 1; i <= 32; i++)
        {
            Assert.Equal($"{i * i}\n", results[i - 1].Stdout);
            Assert.Equal(0, results[i - 1].ExitCode);
        }

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(8), $"32 calls of 0.5 s took {stopwatch.Elapsed}; they should overlap");
    }

    [Fact]
    public async Task Exec_WithEventStream_StreamsChunksThenExit()
    {
        // Far enough apart that a busy machine still delivers them as separate events.
        var request = new ShellExecRequest { Command = "for i in 1 2 3; do echo $i; sleep 0.4; done; echo err >&2; exit 4" };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        ShellExecResult? exit = null;
        var stdoutEvents = 0;
        await foreach (var item in box.Client.ExecStreamAsync(request, Ct))
        {
            stdoutEvents += item.EventType == "stdout" ? 1 : 0;
            switch (item.EventType)
            {
                case "stdout": stdout.Append(item.Data); break;
                case "stderr": stderr.Append(item.Data); break;
                case "exit": exit = JsonSerializer.Deserialize(item.Data, Protocol.Serialization.BoxJsonContext.Default.ShellExecResult); break;
            }
        }

        Assert.Equal("1\n2\n3\n", stdout.ToString().ReplaceLineEndings("\n"));
        Assert.Equal("err\n", stderr.ToString());
        Assert.NotNull(exit);
        Assert.Equal(4, exit.ExitCode);
        Assert.True(stdoutEvents >= 2, "output should arrive in several events as it is produced");
    }

    [Fact]
    public async Task Exec_WithEventStream_KeepsCarriageReturnsAndBlankLines()
    {
        var request = new ShellExecRequest { Command = @"printf 'progress 10%%\rprogress 100%%\r\n\n\nend'" };
        var stdout = new StringBuilder();
        await foreach (var item in box.Client.ExecStreamAsync(request, Ct))
        {
            if (item.EventType == "stdout")
            {
                stdout.Append(item.Data);
            }
        }

        Assert.Equal("progress 10%\rprogress 100%\r\n\n\nend", stdout.ToString());
    }

    [Fact]
    public async Task Exec_SeedCompatibleTimeoutField_IsHonoured()
    {
        using var http = box.Http();
        using var response = await http.PostAsync("shell/exec",
            new StringContent("""{"command":"sleep 5","cwd":".","timeout":0.3}""", Encoding.UTF8, "application/json"), Ct);
        response.EnsureSuccessStatusCode();
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.True(json.GetProperty("timed_out").GetBoolean());
        Assert.True(json.GetProperty("duration_ms").GetInt64() < 3000);
    }

    private static string ExpectedSha256(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true })!;
        var hash = SHA256.HashData(process.StandardOutput.BaseStream);
        process.WaitForExit();
        return Convert.ToHexString(hash);
    }
}
