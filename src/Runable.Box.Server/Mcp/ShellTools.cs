using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol.Server;
using Runable.Box.Processes;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Serialization;
using Runable.Box.Protocol.Shell;
using Runable.Box.Shell;

namespace Runable.Box.Server.Mcp;

/// <summary>The shell and process tools as MCP tools; thin adapters over <see cref="ShellService"/> and <see cref="ProcessSupervisor"/>.</summary>
[McpServerToolType]
public sealed class ShellTools(ShellService shell, ProcessSupervisor supervisor)
{
    [McpServerTool(Name = "shell_exec", Title = "Run a shell command")]
    [Description("Run a bash command in the workspace and return its exit code, stdout and stderr as JSON. " +
        "Output over 64 KiB per stream is cut to its head and tail; the whole of it can be read with process_output. " +
        "If the command is still running after timeout_s seconds you get the output so far with timed_out: true, and the command " +
        "keeps running in the background as process_id (on_timeout='background', the default) or is killed (on_timeout='kill'). " +
        "Use a session_id from shell_session_create to keep cd, exports and variables between commands. Avoid interactive programs; pass input through stdin.")]
    public Task<string> ExecAsync(
        [Description("The bash command line, e.g. 'ls -la src' or 'pytest -x -q'.")] string command,
        [Description("Seconds to wait before returning (default 60).")] double? timeout_s = null,
        [Description("A persistent session to run in, from shell_session_create.")] string? session_id = null,
        [Description("Working directory, relative to the workspace.")] string? cwd = null,
        [Description("Text to send to the command's standard input.")] string? stdin = null,
        [Description("'background' (default) keeps a timed-out command running; 'kill' kills it.")] string? on_timeout = null,
        CancellationToken cancellationToken = default) =>
        McpToolErrors.RunAsync(async () =>
        {
            var request = new ShellExecRequest
            {
                Command = command,
                TimeoutS = timeout_s,
                SessionId = session_id,
                Cwd = cwd,
                Stdin = stdin,
                OnTimeout = on_timeout switch
                {
                    null or "" or "background" => OnTimeout.Background,
                    "kill" => OnTimeout.Kill,
                    _ => throw BoxException.InvalidArgument("on_timeout must be 'background' or 'kill'."),
                },
            };
            var result = await shell.ExecAsync(request, cancellationToken);
            return JsonSerializer.Serialize(result, BoxJsonContext.Default.ShellExecResult);
        });

    [McpServerTool(Name = "shell_session_create", Title = "Open a persistent shell session")]
    [Description("Open a bash session whose directory, exported and shell variables persist between shell_exec calls that name its session_id.")]
    public Task<string> CreateSessionAsync(
        [Description("Starting directory, relative to the workspace.")] string? cwd = null) =>
        McpToolErrors.Run(() => JsonSerializer.Serialize(shell.CreateSession(new ShellSessionRequest { Cwd = cwd }), BoxJsonContext.Default.ShellSessionInfo));

    [McpServerTool(Name = "process_start", Title = "Start a background process")]
    [Description("Start a long-running command (a server, a watcher, a long build) in the background and return its process_id at once. Read its output with process_output.")]
    public Task<string> StartProcessAsync(
        [Description("The bash command line.")] string command,
        [Description("Working directory, relative to the workspace.")] string? cwd = null) =>
        McpToolErrors.Run(() =>
        {
            var process = supervisor.Start(command, cwd, null);
            return JsonSerializer.Serialize(process.ToInfo(), BoxJsonContext.Default.ProcessInfo);
        });

    [McpServerTool(Name = "process_list", Title = "List processes", ReadOnly = true)]
    [Description("List background processes with their status, exit code and output sizes.")]
    public string ListProcesses() => JsonSerializer.Serialize(supervisor.List().ToList(), BoxJsonContext.Default.ListProcessInfo);

    [McpServerTool(Name = "process_output", Title = "Read a process's output", ReadOnly = true)]
    [Description("Read a page of a process's stdout or stderr from a byte offset. Call again with next_offset to continue; eof is true when the process has exited and all output was read.")]
    public Task<string> ReadOutputAsync(
        [Description("The process_id.")] string process_id,
        [Description("'stdout' (default) or 'stderr'.")] string? stream = null,
        [Description("Byte offset to read from (default 0).")] long? offset = null,
        [Description("Bytes to read (default 65536).")] int? limit = null) =>
        McpToolErrors.Run(() => JsonSerializer.Serialize(
            supervisor.ReadOutput(process_id, stream, offset ?? 0, limit ?? 65536, base64: false), BoxJsonContext.Default.ProcessOutput));

    [McpServerTool(Name = "process_stdin", Title = "Write to a process's input")]
    [Description("Write text to a background process's standard input; close=true then sends end of file.")]
    public Task<string> WriteStdinAsync(
        [Description("The process_id.")] string process_id,
        [Description("The text to write (include \\n for a newline).")] string data,
        [Description("Close standard input after writing.")] bool close = false,
        CancellationToken cancellationToken = default) =>
        McpToolErrors.RunAsync(async () =>
        {
            var process = supervisor.Get(process_id);
            await process.WriteStdinAsync(System.Text.Encoding.UTF8.GetBytes(data), close, cancellationToken);
            return JsonSerializer.Serialize(process.ToInfo(), BoxJsonContext.Default.ProcessInfo);
        });

    [McpServerTool(Name = "process_signal", Title = "Signal a process", Destructive = true)]
    [Description("Send INT, TERM or KILL (or HUP, QUIT, USR1, USR2, STOP, CONT) to a background process and everything it started.")]
    public Task<string> SignalAsync(
        [Description("The process_id.")] string process_id,
        [Description("The signal name, e.g. 'INT' or 'KILL'.")] string signal) =>
        McpToolErrors.Run(() =>
        {
            var number = ProcessSignals.Parse(signal);
            var process = supervisor.Get(process_id);
            process.Signal(number);
            return JsonSerializer.Serialize(process.ToInfo(), BoxJsonContext.Default.ProcessInfo);
        });
}
