using System.Diagnostics;
using Runable.Box.Native;

namespace Runable.Box.Processes;

/// <summary>
/// The box's one way to start a program: in a new session and process group (through <c>setsid</c>), so that
/// everything it starts can be signalled or killed together; raw bytes of stdout and stderr pumped into sinks;
/// standard input as a raw stream.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private static readonly string s_setsid = ProgramPath.Find("setsid") ?? "/usr/bin/setsid";
    private readonly Process _process;
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private readonly object _stdinGate = new();
    private bool _stdinClosed;

    private ChildProcess(Process process, ChildProcessOptions options)
    {
        _process = process;
        Pid = process.Id;
        _stdoutPump = PumpAsync(process.StandardOutput.BaseStream, options.Stdout);
        _stderrPump = PumpAsync(process.StandardError.BaseStream, options.Stderr);
        Exited = WaitForExitAsync();
        OutputClosed = Task.WhenAll(_stdoutPump, _stderrPump);
    }

    /// <summary>The process id, which is also the id of its process group and session.</summary>
    public int Pid { get; }

    /// <summary>Completes with the exit code (128 + signal when killed by a signal) when the process exits.</summary>
    public Task<int> Exited { get; }

    /// <summary>Completes when both output streams reached end of file (every holder of the pipes has exited or closed them).</summary>
    public Task OutputClosed { get; }

    /// <summary>Starts a program in its own process group.</summary>
    public static ChildProcess Start(ChildProcessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var info = new ProcessStartInfo(s_setsid)
        {
            WorkingDirectory = options.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--");
        info.ArgumentList.Add(options.FileName);
        foreach (var argument in options.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        foreach (var (name, value) in options.Environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {options.FileName}.");
        JoinCgroups(process.Id, options.Cgroups);
        return new ChildProcess(process, options);
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
            var stream = _process.StandardInput.BaseStream;
            await stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
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
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child already closed its end.
        }
    }

    /// <summary>
    /// Sends a signal to the child's whole process group; false when no process of it is left. Right after the
    /// start the child may not have made its group yet (setsid runs first): then it alone gets the signal, being
    /// the only process there is (and, not yet reaped, still the owner of its pid).
    /// </summary>
    public bool SignalGroup(int signal) =>
        ProcessInterop.SignalGroup(Pid, signal) || (!Exited.IsCompleted && ProcessInterop.SignalProcess(Pid, signal));

    /// <summary>Kills every process of the child's group.</summary>
    public void KillGroup() => SignalGroup(ProcessInterop.SIGKILL);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            KillGroup();
        }

        CloseStdin();
        _process.Dispose();
    }

    private async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        return _process.ExitCode;
    }

    private static Task PumpAsync(Stream stream, IOutputSink sink) => Task.Run(async () =>
    {
        var buffer = new byte[64 * 1024];
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
    /// Moves a just-started child into the workload's cgroups. Process.Start returns once the child has
    /// exec'd setsid, well before the command can fork, so what it starts is born inside them.
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
