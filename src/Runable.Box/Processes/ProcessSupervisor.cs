using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Processes;

namespace Runable.Box.Processes;

/// <summary>
/// Owns every process the box starts: gives each an id, spools its output to disk, keeps it listed after the
/// client that started it has gone, and kills every process group that is still running when the box stops.
/// </summary>
public sealed partial class ProcessSupervisor : IDisposable
{
    private readonly ConcurrentDictionary<string, SupervisedProcess> _processes = new(StringComparer.Ordinal);
    private readonly BoxState _state;
    private readonly TimeProvider _time;
    private readonly ILogger<ProcessSupervisor> _logger;
    private bool _disposed;

    public ProcessSupervisor(BoxState state, TimeProvider time, ILogger<ProcessSupervisor> logger)
    {
        _state = state;
        _time = time;
        _logger = logger;
    }

    /// <summary>The box's state and settings.</summary>
    public BoxState State => _state;

    /// <summary>Starts <paramref name="command"/> under <c>bash -c</c> in the background.</summary>
    public SupervisedProcess Start(string? command, string? cwd, IReadOnlyDictionary<string, string>? env, string origin = "process")
    {
        if (string.IsNullOrWhiteSpace(command))
        {
            throw BoxException.InvalidArgument("command is required: the bash command line to run.");
        }

        if (command.Contains('\0', StringComparison.Ordinal))
        {
            throw BoxException.InvalidArgument("command must not contain NUL bytes.");
        }

        var workingDirectory = _state.ResolveWorkingDirectory(cwd);
        var environment = _state.CommandEnvironment(env);
        var process = Create(command, origin);
        try
        {
            var child = ChildProcess.Start(new ChildProcessOptions
            {
                FileName = _state.Options.Shell,
                Arguments = ["-c", command],
                WorkingDirectory = workingDirectory,
                Environment = environment,
                Cgroups = _state.WorkCgroupProcs,
                Stdout = process.Stdout,
                Stderr = process.Stderr,
            });
            process.Attach(child);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            Forget(process);
            throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.Internal, $"Could not start the shell: {e.Message}", e);
        }

        LogStarted(_logger, process.Id, process.Pid, origin);
        return process;
    }

    /// <summary>Creates and registers an entry whose process is managed by the caller (a session command).</summary>
    public SupervisedProcess Create(string command, string origin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Prune();
        if (_processes.Count >= _state.Options.MaxProcesses)
        {
            throw new BoxException(BoxErrorKind.LimitReached, BoxErrorCodes.TooManyProcesses,
                $"The box already tracks {_processes.Count} processes (limit {_state.Options.MaxProcesses}); stop some with POST /processes/{{id}}/signal.");
        }

        var id = NewId();
        var process = new SupervisedProcess(id, command, origin, Path.Combine(_state.StateDirectory, "processes", id), _state.Options.SpoolBytes, _time);
        _processes[id] = process;
        return process;
    }

    /// <summary>The process with this id, or a 404 <c>process_not_found</c>.</summary>
    public SupervisedProcess Get(string id) =>
        _processes.TryGetValue(id, out var process)
            ? process
            : throw BoxException.NotFound(BoxErrorCodes.ProcessNotFound, $"No process '{id}'; GET /processes lists the ones the box knows.");

    /// <summary>Every tracked process, oldest first.</summary>
    public IReadOnlyList<ProcessInfo> List() =>
        _processes.Values.OrderBy(p => p.StartedAt).ThenBy(p => p.Id, StringComparer.Ordinal).Select(p => p.ToInfo()).ToList();

    /// <summary>Reads a page of a process's output.</summary>
    public ProcessOutput ReadOutput(string id, string? stream, long offset, int limit, bool base64)
    {
        if (offset < 0)
        {
            throw BoxException.InvalidArgument("offset must be 0 or more.");
        }

        if (limit is < 1 or > 4 * 1024 * 1024)
        {
            throw BoxException.InvalidArgument("limit must be between 1 and 4194304 bytes.");
        }

        var spool = Get(id).Stream(stream);
        var read = spool.Read(offset, limit);
        var bytes = read.Data.Span;
        var usable = base64 || read.EndOfStream ? bytes.Length : Utf8Text.CompleteLength(bytes);
        return new ProcessOutput
        {
            Data = base64 ? Convert.ToBase64String(bytes[..usable]) : Utf8Text.Decode(bytes[..usable]),
            Encoding = base64 ? "base64" : "utf-8",
            Offset = read.Offset,
            NextOffset = read.Offset + usable,
            DroppedBytes = read.Dropped,
            Eof = read.EndOfStream && usable == bytes.Length,
        };
    }

    /// <summary>Forgets a process (killing it if it runs) and deletes its spools.</summary>
    public void Forget(SupervisedProcess process)
    {
        if (_processes.TryRemove(new KeyValuePair<string, SupervisedProcess>(process.Id, process)))
        {
            process.Dispose();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var process in _processes.Values)
        {
            process.Dispose();
        }

        _processes.Clear();
    }

    /// <summary>Drops the oldest exited processes beyond the retention setting.</summary>
    private void Prune()
    {
        var exited = _processes.Values.Where(p => p.HasExited).ToList();
        var excess = exited.Count - _state.Options.RetainExitedProcesses;
        if (excess <= 0)
        {
            return;
        }

        foreach (var process in exited.OrderBy(p => p.StartedAt).Take(excess))
        {
            Forget(process);
        }
    }

    private static string NewId()
    {
        const string Alphabet = "abcdefghijkmnopqrstuvwxyz23456789";
        Span<byte> random = stackalloc byte[12];
        RandomNumberGenerator.Fill(random);
        var id = new StringBuilder("proc_", 17);
        foreach (var b in random)
        {
            id.Append(Alphabet[b % Alphabet.Length]);
        }

        return id.ToString();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Started process {ProcessId} (pid {Pid}, {Origin})")]
    private static partial void LogStarted(ILogger logger, string processId, int pid, string origin);
}
