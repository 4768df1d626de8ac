namespace Runable.Orchestrator.Agents.Tools;

/// <summary><c>finish</c>: the agent says it is done; the tool set records the report so the loop can stop.</summary>
internal sealed class FinishTool(Action<FinishReport> record, TimeProvider time) : BoxTool("finish", ToolDescription, Schema, time)
{
    private const string Schema = """
        {
          "type": "object",
          "properties": {
            "summary": {"type": "string", "description": "What you did and where the result is (files changed, how to check it), or why the task could not be done."},
            "success": {"type": "boolean", "description": "false if the task could not be completed; default true."}
          },
          "required": ["summary"]
        }
        """;

    private const string ToolDescription = """
        Call this once the task is complete (or cannot be completed), as the last step: it ends the task. Before calling it, check the result (run the tests, view the files).
        The changes in the workspace are the task's result; the summary is shown to the user.
        """;

    protected override Task<ToolResult> ExecuteAsync(ToolArguments arguments, CancellationToken cancellationToken)
    {
        var summary = arguments.RequiredString("summary", "what you did, or why the task could not be done");
        if (summary.Trim().Length == 0)
        {
            throw new ToolArgumentException("summary must not be empty: say what you did, or why the task could not be done.");
        }

        var success = arguments.Bool("success") ?? true;
        record(new FinishReport(summary.Trim(), success));
        return Task.FromResult(new ToolResult { Text = success ? "The task is marked as done. Stop here." : "The task is marked as not completed. Stop here." });
    }
}
