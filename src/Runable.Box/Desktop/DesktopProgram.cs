using System.Buffers;
using System.Text;
using Runable.Box.Processes;
using Runable.Box.Protocol;

namespace Runable.Box.Desktop;

/// <summary>What a desktop helper program (xdotool, xwd, xprop) printed and how it exited.</summary>
internal sealed record DesktopProgramResult(int ExitCode, ReadOnlyMemory<byte> Stdout, string Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout.Span);
}

/// <summary>Runs the desktop's helper programs like any command: own process group, the workload's cgroups, output collected in memory.</summary>
internal static class DesktopProgram
{
    /// <summary>True when <paramref name="program"/> is an existing path or found on PATH.</summary>
    public static bool OnPath(string program) => ProgramPath.Exists(program);

    /// <summary>The full path of <paramref name="program"/>, or null when it is not installed.</summary>
    public static string? Find(string program) => ProgramPath.Find(program);

    /// <summary>Runs <paramref name="program"/> to its end (killed after <paramref name="timeout"/>).</summary>
    public static async Task<DesktopProgramResult> RunAsync(BoxState state, IReadOnlyDictionary<string, string> display, string program,
        IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken, int expectedBytes = 4096)
    {
        var stdout = new BufferSink(expectedBytes);
        var stderr = new BufferSink(1024);
        using var process = Start(state, display, program, arguments, stdout, stderr);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await process.Exited.WaitAsync(timer.Token).ConfigureAwait(false);
            await process.OutputClosed.WaitAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.KillGroup();
            throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.DesktopUnavailable,
                $"{Path.GetFileName(program)} did not finish within {timeout.TotalSeconds:0.#} s.");
        }

        return new DesktopProgramResult(process.Exited.Result, stdout.Written, Encoding.UTF8.GetString(stderr.Written.Span));
    }

    /// <summary>Starts <paramref name="program"/> with the desktop's <c>DISPLAY</c> and <c>XAUTHORITY</c>.</summary>
    public static ChildProcess Start(BoxState state, IReadOnlyDictionary<string, string> display, string program,
        IReadOnlyList<string> arguments, IOutputSink stdout, IOutputSink stderr)
    {
        try
        {
            return ChildProcess.Start(new ChildProcessOptions
            {
                FileName = program,
                Arguments = arguments,
                WorkingDirectory = state.Workspace,
                Environment = state.CommandEnvironment(display),
                Cgroups = state.WorkCgroupProcs,
                Stdout = stdout,
                Stderr = stderr,
            });
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.DesktopUnavailable,
                $"Could not start {program}: {e.Message}. {DesktopService.InstallHint}", e);
        }
    }

    /// <summary>Collects a stream in memory.</summary>
    internal sealed class BufferSink(int capacity) : IOutputSink
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(Math.Max(capacity, 256));
        private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the stream reached its end.</summary>
        public Task Completed => _completed.Task;

        public ReadOnlyMemory<byte> Written
        {
            get
            {
                lock (_buffer)
                {
                    return _buffer.WrittenMemory;
                }
            }
        }

        public void Append(ReadOnlySpan<byte> data)
        {
            lock (_buffer)
            {
                _buffer.Write(data);
            }
        }

        public void Complete() => _completed.TrySetResult();
    }
}
