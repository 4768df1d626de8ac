using System.Collections.Concurrent;
using System.Diagnostics;

namespace Runable.Sandboxes.Bubblewrap;

/// <summary>
/// Starts sandboxes from one thread that lives as long as the process. bwrap's <c>--die-with-parent</c> (the
/// kernel's parent-death signal) fires when the <em>thread</em> that forked it exits, not the process: started
/// from a thread-pool thread, a sandbox would be killed whenever the pool retires that thread.
/// </summary>
internal static class SpawnThread
{
    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Started)> Requests = [];

    static SpawnThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "runable-sandbox-spawner" };
        thread.Start();
    }

    /// <summary>Starts <paramref name="info"/> on the spawner thread and returns the process.</summary>
    public static Process Start(ProcessStartInfo info)
    {
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((info, started));
        return started.Task.GetAwaiter().GetResult();
    }

    private static void Run()
    {
        foreach (var (info, started) in Requests.GetConsumingEnumerable())
        {
            try
            {
                started.SetResult(Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}."));
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
            {
                started.SetException(e);
            }
        }
    }
}
