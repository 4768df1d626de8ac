using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Runable.Box.Client;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Shell;

namespace Runable.Orchestrator.Agents.Tools;

/// <summary>
/// Keeps observations small: output over the cap keeps its head and tail, and the whole of it is saved in the
/// sandbox (outside the workspace, so the job's diff stays clean) where the agent can page through it with sed or grep.
/// </summary>
internal sealed class OutputLimiter(BoxClient box, AgentToolOptions options)
{
    // Stdin goes in a JSON body, which the box caps at 16 MiB; a saved output is written in pieces well under that.
    private const int SaveChunkChars = 2 * 1024 * 1024;
    private readonly string _prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private int _saved;

    /// <summary>Caps <paramref name="text"/>; when cut, saves the whole of it in the sandbox and says where.</summary>
    public async Task<LimitedText> LimitAsync(string tool, string text, CancellationToken cancellationToken)
    {
        var cut = TextCut.Cut(text, options.MaxOutputChars, options.MaxOutputLines);
        if (cut is null)
        {
            return new LimitedText(text, false, null);
        }

        var id = $"{tool}-{Interlocked.Increment(ref _saved).ToString("D3", CultureInfo.InvariantCulture)}-{_prefix}";
        var path = $"{options.OutputDirectory.TrimEnd('/')}/{id}.txt";
        string pointer;
        try
        {
            await SaveAsync(path, text, cancellationToken).ConfigureAwait(false);
            pointer = $"the full output ({cut.TotalLines} lines) is in {path}: read parts of it with sed -n '{cut.FirstOmittedLine},{Math.Min(cut.LastOmittedLine, cut.FirstOmittedLine + 99)}p' {path}, or search it with grep -n PATTERN {path}";
        }
        catch (Exception e) when (e is BoxException or HttpRequestException)
        {
            path = null;
            pointer = $"the full output could not be saved ({e.Message}); narrow the command's output (head, tail, grep) instead";
        }

        return new LimitedText(Join(cut, $"[... {cut.OmittedChars} characters (lines {cut.FirstOmittedLine}-{cut.LastOmittedLine}) omitted; {pointer} ...]"), true, path);
    }

    /// <summary>Caps <paramref name="text"/> without saving it, for output the agent can read again another way (a file's lines).</summary>
    public LimitedText Limit(string text, Func<TextCut, string> describeOmission)
    {
        var cut = TextCut.Cut(text, options.MaxOutputChars, options.MaxOutputLines);
        return cut is null ? new LimitedText(text, false, null) : new LimitedText(Join(cut, describeOmission(cut)), true, null);
    }

    private static string Join(TextCut cut, string marker)
    {
        var builder = new StringBuilder(cut.Head.Length + cut.Tail.Length + marker.Length + 2);
        builder.Append(cut.Head);
        if (cut.Head.Length > 0 && cut.Head[^1] != '\n')
        {
            builder.Append('\n');
        }

        builder.Append(marker).Append('\n').Append(cut.Tail);
        return builder.ToString();
    }

    private async Task SaveAsync(string path, string text, CancellationToken cancellationToken)
    {
        var directory = path[..path.LastIndexOf('/')];
        for (var offset = 0; offset < text.Length || offset == 0; )
        {
            var length = Math.Min(SaveChunkChars, text.Length - offset);
            if (length > 0 && offset + length < text.Length && char.IsHighSurrogate(text[offset + length - 1]))
            {
                length--;
            }

            var command = offset == 0 ? $"mkdir -p '{directory}' && cat > '{path}'" : $"cat >> '{path}'";
            var result = await box.ExecAsync(new ShellExecRequest
            {
                Command = command,
                Stdin = text.Substring(offset, length),
                TimeoutS = 60,
                OnTimeout = OnTimeout.Kill,
            }, cancellationToken).ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                throw new BoxException(BoxErrorKind.Unavailable, BoxErrorCodes.Internal,
                    $"writing {path} failed with exit code {result.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}: {result.Stderr.Trim()}");
            }

            offset += Math.Max(length, 1);
        }
    }
}
