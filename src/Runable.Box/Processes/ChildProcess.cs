using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using Runable.Box.Native;

namespace Runable.Box.Processes;

/// <summary>
/// The box's one way to start a program: as the leader of a new session and process group
/// (<see cref="SpawnInterop"/>: <c>posix_spawn</c> with <c>POSIX_SPAWN_SETSID</c>), so that everything it starts can
/// be signalled or killed together; raw bytes of stdout and stderr pumped into sinks; standard input as a raw stream.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Stream _stdin;
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private readonly object _stdinGate = new();
    private bool _stdinClosed;

    private ChildProcess(SpawnInterop.Spawned spawned, ChildProcessOptions options)
    {
        Pid = spawned.Pid;
        _stdin = Pipe(spawned.Stdin, PipeDirection.Out);
        _stdoutPump = PumpAsync(Pipe(spawned.Stdout, PipeDirection.In), options.Stdout);
        _stderrPump = PumpAsync(Pipe(spawned.Stderr, PipeDirection.In), options.Stderr);
        Exited = ChildReaper.Watch(spawned.PidFd);
        OutputClosed = Task.WhenAll(_stdoutPump, _stderrPump);
    }

    /// <summary>The process id, which is also the id of its process group and session.</summary>
    public int Pid { get; }

    /// <summary>Completes with the exit code (128 + signal when killed by a signal) when the process exits.</summary>
    public Task<int> Exited { get; }

    /// <summary>Completes when both output streams reached end of file (every holder of the pipes has exited or closed them).</summary>
    public Task OutputClosed { get; }

    /// <summary>Starts a program in its own session and process group; a program that is not there, or cannot be
    /// run, is a <see cref="System.ComponentModel.Win32Exception"/> naming it.</summary>
    public static ChildProcess Start(ChildProcessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var environment = options.Environment.Select(e => $"{e.Key}={e.Value}").ToList();
        var path = ProgramPath.Find(options.FileName, options.Environment.GetValueOrDefault("PATH"))
            ?? throw new System.ComponentModel.Win32Exception(2, $"Could not start {options.FileName}: no such program on the PATH.");
        var spawned = SpawnInterop.Spawn(path, [options.FileName, .. options.Arguments], environment, options.WorkingDirectory);
        JoinCgroups(spawned.Pid, options.Cgroups);
        return new ChildProcess(spawned, options);
    }

    /// <summary>Writes bytes to the child's standard input; false when it is closed or the child stopped reading.</summary>
    public async ValueTask<bool> WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        lock (_stdinGate)
        {
            if (_stdinClosed)
            {
                return false;
            }
        }

        try
        {
            await _stdin.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            await _stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Closes standard input so the child reads end of file.</summary>
    public void CloseStdin()
    {
        lock (_stdinGate)
        {
            if (_stdinClosed)
            {
                return;
            }

            _stdinClosed = true;
        }

        try
        {
            _stdin.Dispose();
        }
        catch (IOException)
        {
            // The child already closed its end.
        }
    }

    /// <summary>
    /// Sends a signal to the child's whole process group; false when no process of it is left. The child leads its
    /// group from its first instruction (posix_spawn made it so before the exec), so nothing escapes the signal.
    /// </summary>
    public bool SignalGroup(int signal) => ProcessInterop.SignalGroup(Pid, signal);

    /// <summary>Kills every process of the child's group.</summary>
    public void KillGroup() => SignalGroup(ProcessInterop.SIGKILL);

    public void Dispose()
    {
        if (!Exited.IsCompleted)
        {
            KillGroup();
        }

        CloseStdin();
    }

    /// <summary>A stream over one of the parent's pipe ends (asynchronous through the runtime's socket engine).</summary>
    private static Stream Pipe(int fd, PipeDirection direction) =>
        new AnonymousPipeClientStream(direction, new SafePipeHandle(fd, ownsHandle: true));

    private static Task PumpAsync(Stream stream, IOutputSink sink) => Task.Run(async () =>
    {
        var buffer = new byte[64 * 1024];
        await using var owned = stream;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                sink.Append(buffer.AsSpan(0, read));
            }
        }
        catch (IOException)
        {
            // The pipe broke: treat as end of stream.
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            sink.Complete();
        }
    });

    /// <summary>
    /// Moves a just-started child into the workload's cgroups. posix_spawn returns once the child has exec'd, and a
    /// program is still loading its libraries when the write lands, well before it can fork, so what it starts is
    /// born inside them (the sandbox's own cgroup, around box and workload alike, bounds it either way).
    /// </summary>
    private static void JoinCgroups(int pid, IReadOnlyList<string> cgroups)
    {
        foreach (var procs in cgroups)
        {
            try
            {
                File.WriteAllText(procs, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The child already exited.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
