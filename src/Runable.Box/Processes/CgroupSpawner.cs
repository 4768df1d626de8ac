using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using Runable.Box.Native;

namespace Runable.Box.Processes;

/// <summary>
/// Starts children so that they are born in the workload's cgroups rather than moved there. Moving a process
/// between cgroups takes the kernel's cgroup threadgroup lock for writing, which waits for an RCU grace period: on
/// this kind of host 2 to 5 ms per hierarchy when commands come one at a time, as an agent's do (an isolated
/// command in a sandbox took 15 to 26 ms against 3 ms back to back). With cgroup v1, one thread of the box is moved
/// into the workload's cgroups once (a v1 cgroup takes single threads through its <c>tasks</c> file; the box's
/// memory stays charged to the box, its owner) and does every spawn: a child inherits the cgroups of the thread
/// that cloned it. Where threads cannot be placed alone (cgroup v2), the child is moved right after it starts.
/// </summary>
internal static partial class CgroupSpawner
{
    private static readonly ConcurrentDictionary<string, Lazy<SpawnerThread?>> s_threads = new(StringComparer.Ordinal);

    [LibraryImport("libc")]
    private static partial int gettid();

    /// <summary>Runs <paramref name="spawn"/> so that the process it starts is in <paramref name="cgroups"/> (their <c>cgroup.procs</c> files).</summary>
    public static SpawnInterop.Spawned Spawn(IReadOnlyList<string> cgroups, Func<SpawnInterop.Spawned> spawn)
    {
        if (cgroups.Count == 0)
        {
            return spawn();
        }

        var key = string.Join('\n', cgroups);
        if (s_threads.GetOrAdd(key, _ => new Lazy<SpawnerThread?>(() => SpawnerThread.TryStart(cgroups))).Value is { } thread)
        {
            return thread.Run(spawn);
        }

        var spawned = spawn();
        Join(spawned.Pid, cgroups);
        return spawned;
    }

    /// <summary>Moves <paramref name="pid"/> into the cgroups whose <c>cgroup.procs</c> files are given; a process already gone is left alone.</summary>
    private static void Join(int pid, IReadOnlyList<string> cgroups)
    {
        foreach (var procs in cgroups)
        {
            try
            {
                File.WriteAllText(procs, pid.ToString(CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The child already exited, or the cgroup is not ours to write.
            }
        }
    }

    /// <summary>A thread that lives in the workload's cgroups and runs the spawns handed to it, one at a time.</summary>
    private sealed class SpawnerThread
    {
        private readonly BlockingCollection<(Func<SpawnInterop.Spawned> Spawn, TaskCompletionSource<SpawnInterop.Spawned> Done)> _work = [];

        /// <summary>The thread, placed in every cgroup of <paramref name="cgroups"/>; null when a cgroup does not take single threads.</summary>
        public static SpawnerThread? TryStart(IReadOnlyList<string> cgroups)
        {
            // In a sandbox each file is bound alone (procs as /run/runable-cgroup/N, tasks as N.tasks); on a host, the
            // tasks file sits beside cgroup.procs.
            var tasks = cgroups.Select(procs => File.Exists(procs + ".tasks") ? procs + ".tasks" : Path.Combine(Path.GetDirectoryName(procs)!, "tasks")).ToList();
            if (!tasks.All(File.Exists))
            {
                return null; // cgroup v2: no per-thread membership outside threaded subtrees
            }

            var spawner = new SpawnerThread();
            var placed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            new Thread(() => spawner.Loop(tasks, placed)) { IsBackground = true, Name = "runable spawner" }.Start();
            return placed.Task.GetAwaiter().GetResult() ? spawner : null;
        }

        public SpawnInterop.Spawned Run(Func<SpawnInterop.Spawned> spawn)
        {
            var done = new TaskCompletionSource<SpawnInterop.Spawned>(TaskCreationOptions.RunContinuationsAsynchronously);
            _work.Add((spawn, done));
            return done.Task.GetAwaiter().GetResult();
        }

        private void Loop(List<string> tasks, TaskCompletionSource<bool> placed)
        {
            var tid = gettid().ToString(CultureInfo.InvariantCulture);
            try
            {
                foreach (var file in tasks)
                {
                    File.WriteAllText(file, tid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                placed.TrySetResult(false);
                return;
            }

            placed.TrySetResult(true);
            foreach (var (spawn, done) in _work.GetConsumingEnumerable())
            {
                try
                {
                    done.TrySetResult(spawn());
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                }
            }
        }
    }
}
