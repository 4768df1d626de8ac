using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using Runable.Box.Client;
using Runable.Box.Protocol.Code;

namespace Runable.Orchestrator.Agents.Tools;

/// <summary>
/// <c>code</c>: runs Python (or TypeScript) in the box's persistent Jupyter kernels; text outputs come back in the kernel's
/// order, figures as PNG images.
/// </summary>
internal sealed class CodeTool : BoxTool
{
    private const int PageBytes = 1024 * 1024;
    private static readonly string[] s_imageTypes = ["image/png", "image/jpeg"];
    private readonly BoxClient _box;
    private readonly AgentToolOptions _options;
    private readonly OutputLimiter _limiter;
    private readonly IReadOnlyList<string> _languages;

    public CodeTool(BoxClient box, AgentToolOptions options, OutputLimiter limiter, IReadOnlyList<string> languages, string workspace, TimeProvider time)
        : base("code", Describe(options, languages, workspace), SchemaFor(languages), time)
    {
        _box = box;
        _options = options;
        _limiter = limiter;
        _languages = languages;
    }

    protected override async Task<ToolResult> ExecuteAsync(ToolArguments arguments, CancellationToken cancellationToken)
    {
        var code = arguments.RequiredString("code", "the code to run");
        var language = arguments.String("language") ?? _languages[0];
        if (!_languages.Contains(language, StringComparer.Ordinal))
        {
            throw new ToolArgumentException($"language must be one of: {string.Join(", ", _languages)}.");
        }

        var result = await _box.ExecCodeAsync(new CodeExecRequest { Code = code, Language = language, TimeoutS = _options.CodeTimeout.TotalSeconds }, cancellationToken)
            .ConfigureAwait(false);
        var images = new List<DataContent>();
        var body = Render(result, images);
        if (result.Truncated && result.OutputId is { } outputId)
        {
            body = await ReadWholeAsync(outputId, cancellationToken).ConfigureAwait(false) + ImageNotes(images.Count);
        }

        var limited = await _limiter.LimitAsync(Name, body, cancellationToken).ConfigureAwait(false);
        var text = limited.Text.Length == 0 ? "(no output)" : limited.Text;
        var timedOut = result.Status == "timeout";
        if (timedOut)
        {
            var seconds = _options.CodeTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            text = $"Error: the code ran longer than {seconds} s and was interrupted (KeyboardInterrupt). The kernel keeps its state. Output before the interrupt:\n{text}";
        }

        return new ToolResult { Text = text, Images = images, IsError = timedOut, Truncated = limited.Truncated, FullOutputPath = limited.SavedPath };
    }

    private static string SchemaFor(IReadOnlyList<string> languages) =>
        $$"""
        {
          "type": "object",
          "properties": {
            "code": {"type": "string", "description": "The code to run. The value of the last expression is shown, as in a notebook cell."},
            "language": {"type": "string", "enum": [{{string.Join(", ", languages.Select(l => $"\"{l}\""))}}], "description": "The kernel to run it in; default {{languages[0]}}."}
          },
          "required": ["code"]
        }
        """;

    private static string Describe(AgentToolOptions options, IReadOnlyList<string> languages, string workspace) =>
        $"""
        Run code in a persistent Jupyter kernel inside the sandbox ({string.Join(" or ", languages)}), like a notebook cell.
        * State persists between calls: variables, imports and functions defined earlier stay defined. Each language has its own kernel.
        * The kernel's working directory is the workspace, {workspace}.
        * Returns printed output, the value of the last expression, and errors with their traceback. Figures (matplotlib's plt.show(), images displayed) come back as images.
        * A call may run for at most {options.CodeTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s; then it is interrupted and the kernel keeps its state.
        * Long output is cut to its head and tail; the whole of it is saved in a file under {options.OutputDirectory}.
        """;

    /// <summary>The outputs as text in the kernel's order; images are collected and noted in place.</summary>
    private static string Render(CodeExecResult result, List<DataContent> images)
    {
        var text = new StringBuilder();
        foreach (var output in result.Outputs)
        {
            switch (output.Type)
            {
                case "stream":
                    text.Append(output.Text);
                    break;
                case "result" or "display":
                    var image = s_imageTypes.Select(type => (Type: type, Data: output.Data?[type]?.GetValue<string>())).FirstOrDefault(i => i.Data is not null);
                    if (image.Data is not null)
                    {
                        images.Add(new DataContent(Convert.FromBase64String(image.Data), image.Type));
                        AppendLine(text, $"[image {images.Count}: {image.Type}, attached]");
                    }
                    else if (output.Data?["text/plain"]?.GetValue<string>() is { } plain)
                    {
                        AppendLine(text, plain);
                    }

                    break;
                case "error":
                    AppendLine(text, output.Traceback is { Count: > 0 } traceback ? string.Join('\n', traceback) : $"{output.Ename}: {output.Evalue}");
                    break;
            }
        }

        return text.ToString();
    }

    private static void AppendLine(StringBuilder text, string line)
    {
        if (text.Length > 0 && text[^1] != '\n')
        {
            text.Append('\n');
        }

        text.Append(line);
        if (line.Length == 0 || line[^1] != '\n')
        {
            text.Append('\n');
        }
    }

    private static string ImageNotes(int count) =>
        count == 0 ? "" : $"[{count} image(s) attached]\n";

    /// <summary>The whole stdout and stderr of a call the box cut, read back page by page.</summary>
    private async Task<string> ReadWholeAsync(string outputId, CancellationToken cancellationToken)
    {
        var stdout = await ReadStreamAsync(outputId, "stdout", cancellationToken).ConfigureAwait(false);
        var stderr = await ReadStreamAsync(outputId, "stderr", cancellationToken).ConfigureAwait(false);
        if (stderr.Length == 0)
        {
            return stdout;
        }

        var separator = stdout.Length == 0 || stdout[^1] == '\n' ? "" : "\n";
        return $"{stdout}{separator}[stderr]\n{stderr}";
    }

    private async Task<string> ReadStreamAsync(string outputId, string stream, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        long offset = 0;
        while (text.Length < _options.MaxSavedOutputChars)
        {
            var page = await _box.ReadCodeOutputAsync(outputId, stream, offset, PageBytes, cancellationToken).ConfigureAwait(false);
            text.Append(page.Data);
            if (page.Eof || page.NextOffset <= offset)
            {
                return text.ToString();
            }

            offset = page.NextOffset;
        }

        return text.Append($"\n[... {stream} continues beyond {_options.MaxSavedOutputChars} characters; not kept]\n").ToString();
    }
}
