using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Runable.Bench;

/// <summary>
/// Baselines for <c>/code/exec</c>: the same <c>execute_request</c> sent straight to the same kind of kernel with
/// Debian's jupyter_client (no HTTP, no box), and a fresh <c>python3 -c</c> per call (no kernel at all).
/// </summary>
public static class CodeBaselines
{
    private const string Python = "/usr/bin/python3";

    // Starts an ipykernel with jupyter_client and times execute_request of 1+1 until both the reply and the
    // kernel's return to idle have arrived (what /code/exec waits for too); prints the samples as JSON.
    private const string RawKernelScript = """
        import json, sys, time
        from jupyter_client.manager import start_new_kernel
        calls, warmup = int(sys.argv[1]), int(sys.argv[2])
        km, kc = start_new_kernel(kernel_name="python3")
        def once():
            msg_id = kc.execute("1+1")
            kc.get_shell_msg(timeout=30)
            while True:
                m = kc.get_iopub_msg(timeout=30)
                if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    return
        for _ in range(warmup):
            once()
        samples = []
        for _ in range(calls):
            start = time.perf_counter()
            once()
            samples.append((time.perf_counter() - start) * 1000)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        print(json.dumps(samples))
        """;

    /// <summary>A raw <c>execute_request</c> round trip through jupyter_client, or null (with the reason printed) when it cannot run.</summary>
    public static async Task<Measurement?> RawKernelAsync(int calls)
    {
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(RawKernelScript);
        info.ArgumentList.Add(calls.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add((calls / 10).ToString(CultureInfo.InvariantCulture));
        info.Environment["PATH"] = "/usr/bin:/bin";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"  skipped the raw kernel baseline: {(await error).Trim()}");
            return null;
        }

        return new Measurement("execute_request 1+1 via jupyter_client", JsonSerializer.Deserialize<double[]>(await output)!);
    }

    /// <summary>A fresh Python per call: <c>python3 -c 'print(1+1)'</c>.</summary>
    public static Task<Measurement> PythonPerCallAsync(int calls) =>
        Measurement.RunAsync("python3 -c 'print(1+1)' per call", calls, calls / 10, async () =>
        {
            using var process = Process.Start(new ProcessStartInfo(Python, ["-c", "print(1+1)"]) { UseShellExecute = false, RedirectStandardOutput = true })!;
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
        });
}
