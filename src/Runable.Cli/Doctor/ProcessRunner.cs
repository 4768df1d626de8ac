using System.ComponentModel;
using System.Diagnostics;

namespace Runable.Cli.Doctor;

/// <summary>Runs a short probe command with a deadline; the doctor's only way to start processes. Never throws
/// for a missing or hanging program: that is what it reports.</summary>
public sealed class ProcessRunner
{
    /// <summary>Runs <paramref name="fileName"/> (a path or a name looked up on PATH) with its arguments, standard
    /// input closed, and kills its process tree if it has not exited within <paramref name="timeout"/>.</summary>
    public async Task<ProcessOutcome> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new Win32Exception("the process did not start");
        }
        catch (Win32Exception e)
        {
            return new ProcessOutcome { Started = false, StartError = e.Message };
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);

            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                timedOut = true;
                Kill(process);
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                throw;
            }

            // A grandchild may keep the pipes open after the probe exits: take what is there and move on.
            return new ProcessOutcome
            {
                Started = true,
                TimedOut = timedOut,
                ExitCode = timedOut ? null : process.ExitCode,
                StandardOutput = await CollectAsync(stdout),
                StandardError = await CollectAsync(stderr),
            };
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the deadline and the kill.
        }
    }

    private static async Task<string> CollectAsync(Task<string> read)
    {
        try
        {
            return await read.WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (TimeoutException)
        {
            return "";
        }
        catch (IOException)
        {
            return "";
        }
    }
}
