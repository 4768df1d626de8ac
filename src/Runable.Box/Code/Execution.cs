using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Runable.Box.Protocol.Code;

namespace Runable.Box.Code;

/// <summary>
/// One <c>execute_request</c> in flight: collects the kernel's outputs for it, in order, and completes when both
/// the reply (shell) and the kernel's return to idle (iopub) have arrived, so no late output is missed.
/// </summary>
internal sealed partial class Execution(string msgId)
{
    private readonly List<CodeOutput> _outputs = [];
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _replied;
    private bool _idle;

    public string MsgId { get; } = msgId;

    public Task Completed => _completed.Task;

    /// <summary>
    /// Completes when the kernel runs the code (its <c>execute_input</c>, published once the kernel takes SIGINT as
    /// a KeyboardInterrupt in the code; before that an interrupt would be ignored or hit the kernel's own machinery).
    /// </summary>
    public Task Started => _started.Task;

    /// <summary>The reply's status: <c>ok</c>, <c>error</c> or <c>aborted</c>; null before the reply.</summary>
    public string? ReplyStatus { get; private set; }

    public int? ExecutionCount { get; private set; }

    public void OnReply(JupyterMessage reply)
    {
        lock (_outputs)
        {
            ReplyStatus = (string?)reply.Content["status"];
            ExecutionCount = reply.Content["execution_count"]?.GetValue<int>();
            _replied = true;
            CompleteIfDone();
        }
    }

    public void OnIoPub(JupyterMessage message)
    {
        lock (_outputs)
        {
            var content = message.Content;
            switch (message.MsgType)
            {
                case "status" when (string?)content["execution_state"] == "idle":
                    _idle = true;
                    CompleteIfDone();
                    break;
                case "execute_input":
                    _started.TrySetResult();
                    break;
                case "stream":
                    var name = (string?)content["name"] ?? "stdout";
                    var text = (string?)content["text"] ?? "";
                    if (_outputs.Count > 0 && _outputs[^1] is { Type: "stream" } last && last.Name == name)
                    {
                        _outputs[^1] = last with { Text = last.Text + text };
                    }
                    else
                    {
                        _outputs.Add(new CodeOutput { Type = "stream", Name = name, Text = text });
                    }

                    break;
                case "execute_result":
                    _outputs.Add(new CodeOutput { Type = "result", Data = content["data"]?.DeepClone() as JsonObject });
                    break;
                case "display_data":
                    _outputs.Add(new CodeOutput { Type = "display", Data = content["data"]?.DeepClone() as JsonObject });
                    break;
                case "error":
                    _outputs.Add(new CodeOutput
                    {
                        Type = "error",
                        Ename = (string?)content["ename"],
                        Evalue = (string?)content["evalue"],
                        Traceback = content["traceback"] is JsonArray lines ? lines.Select(l => StripAnsi((string?)l ?? "")).ToList() : [],
                    });
                    break;
                case "clear_output":
                    _outputs.Clear();
                    break;
            }
        }
    }

    /// <summary>The kernel went away before the run finished.</summary>
    public void Abandon()
    {
        _started.TrySetResult();
        _completed.TrySetResult();
    }

    /// <summary>The outputs so far, in order.</summary>
    public IReadOnlyList<CodeOutput> Outputs()
    {
        lock (_outputs)
        {
            return [.. _outputs];
        }
    }

    /// <summary>Terminal colour codes, which kernels put in tracebacks and which no reader of the API wants.</summary>
    public static string StripAnsi(string text) => AnsiPattern().Replace(text, "");

    /// <summary>Standard output with results as text, and standard error with tracebacks, as a REPL would print them.</summary>
    public static (string Stdout, string Stderr) Flatten(IEnumerable<CodeOutput> outputs)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        foreach (var output in outputs)
        {
            switch (output.Type)
            {
                case "stream":
                    (output.Name == "stderr" ? stderr : stdout).Append(output.Text);
                    break;
                case "result":
                    stdout.Append((string?)output.Data?["text/plain"]).Append('\n');
                    break;
                case "error":
                    stderr.Append(string.Join('\n', output.Traceback ?? [])).Append('\n');
                    break;
            }
        }

        return (stdout.ToString(), stderr.ToString());
    }

    private void CompleteIfDone()
    {
        if (_replied && _idle)
        {
            _started.TrySetResult();
            _completed.TrySetResult();
        }
    }

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex AnsiPattern();
}
