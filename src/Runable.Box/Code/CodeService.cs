using System.Collections.Concurrent;
using System.Security.Cryptography;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Code;
using Runable.Box.Protocol.Processes;

namespace Runable.Box.Code;

/// <summary>
/// Runs code in persistent Jupyter kernels: one default context per language, used when a call names none,
/// and any number of named contexts (up to <see cref="BoxOptions.MaxCodeContexts"/>). Kernels start on first
/// use; calls to one context run in order, different contexts run in parallel.
/// </summary>
public sealed class CodeService(BoxState state) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, CodeContext> _contexts = new(StringComparer.Ordinal);
    private const int KeptOutputs = 64;
    private readonly object _gate = new();
    private readonly ConcurrentQueue<string> _kept = new();
    private readonly Lazy<string> _spillDirectory = new(() => state.StatePath("code-output"));
    private readonly Lazy<bool> _python = new(() => Processes.ProgramPath.Exists(state.Options.Python));
    private readonly Lazy<bool> _typescript = new(() => Processes.ProgramPath.Exists(state.Options.Tslab));

    /// <summary>True when Python kernels can start here (the configured Python exists).</summary>
    public bool PythonAvailable => _python.Value;

    /// <summary>True when TypeScript kernels can start here (tslab is installed).</summary>
    public bool TypeScriptAvailable => _typescript.Value;

    /// <summary>Runs <paramref name="request"/>'s code and returns what it produced.</summary>
    public async Task<CodeExecResult> ExecuteAsync(CodeExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Code is null)
        {
            throw Invalid("'code' is required: the code to run.");
        }

        var seconds = request.TimeoutS ?? request.Timeout ?? state.Options.DefaultTimeoutSeconds;
        if (seconds <= 0 || seconds > state.Options.MaxTimeoutSeconds)
        {
            throw Invalid($"'timeout_s' must be more than 0 and at most {state.Options.MaxTimeoutSeconds}.");
        }

        var context = request.ContextId is { } id ? Find(id) : Default(Language(request.Language));
        return Capped(await context.ExecuteAsync(request.Code, TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// A page of the whole <c>stdout</c> or <c>stderr</c> of a call whose reply was cut (<c>output_id</c>), by byte
    /// offset; pages never split a character.
    /// </summary>
    public ProcessOutput ReadOutput(string outputId, string? stream, long offset, int limit)
    {
        if (stream is not (null or "stdout" or "stderr"))
        {
            throw Invalid("stream must be 'stdout' or 'stderr'.");
        }

        if (offset < 0 || limit is < 1 or > 16 * 1024 * 1024)
        {
            throw Invalid("offset must be 0 or more and limit between 1 and 16777216.");
        }

        var path = Path.Combine(_spillDirectory.Value, $"{outputId}.{stream ?? "stdout"}");
        if (!outputId.StartsWith("out_", StringComparison.Ordinal) || outputId.Contains('/', StringComparison.Ordinal) || !File.Exists(path))
        {
            throw new BoxException(BoxErrorKind.NotFound, BoxErrorCodes.NotFound, $"No kept output '{outputId}': the newest {KeptOutputs} cut outputs are kept.");
        }

        using var file = File.OpenRead(path);
        var size = file.Length;
        file.Position = Math.Min(offset, size);
        var buffer = new byte[(int)Math.Min(limit, size - file.Position)];
        file.ReadExactly(buffer);
        var length = Processes.Utf8Text.CompleteLength(buffer);
        return new ProcessOutput
        {
            Data = Processes.Utf8Text.Decode(buffer.AsSpan(0, length)),
            Offset = file.Position - buffer.Length,
            NextOffset = file.Position - buffer.Length + length,
            Eof = file.Position - buffer.Length + length >= size,
        };
    }

    /// <summary>Creates a named context; its kernel starts on first use.</summary>
    public CodeContextInfo Create(CodeContextRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var language = Language(request.Language);
        var cwd = state.ResolveWorkingDirectory(request.Cwd);
        var id = "ctx_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
        return Add(id, new CodeContext(id, language, cwd, isDefault: false, state)).Info();
    }

    public List<CodeContextInfo> List() => _contexts.Values.Select(c => c.Info()).OrderBy(c => c.ContextId, StringComparer.Ordinal).ToList();

    public CodeContextInfo Get(string id) => Find(id).Info();

    public Task InterruptAsync(string id) => Find(id).InterruptAsync();

    public async Task<CodeContextInfo> RestartAsync(string id, CancellationToken cancellationToken = default)
    {
        var context = Find(id);
        await context.RestartAsync(cancellationToken).ConfigureAwait(false);
        return context.Info();
    }

    /// <summary>Stops the context's kernel and forgets the context.</summary>
    public async Task DeleteAsync(string id)
    {
        if (!_contexts.TryRemove(id, out var context))
        {
            throw NotFound(id);
        }

        await context.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _contexts.Keys.ToList())
        {
            if (_contexts.TryRemove(id, out var context))
            {
                await context.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private CodeContext Default(KernelLanguage language)
    {
        var id = "default-" + language.Name;
        return _contexts.TryGetValue(id, out var context) ? context : Add(id, new CodeContext(id, language, state.Workspace, isDefault: true, state));
    }

    private CodeContext Add(string id, CodeContext context)
    {
        lock (_gate)
        {
            if (_contexts.TryGetValue(id, out var existing))
            {
                return existing;
            }

            if (_contexts.Count >= state.Options.MaxCodeContexts)
            {
                throw new BoxException(BoxErrorKind.LimitReached, BoxErrorCodes.TooManyContexts,
                    $"{_contexts.Count} code contexts are open, the most this box allows; DELETE /code/contexts/{{id}} the ones no longer needed.");
            }

            _contexts[id] = context;
            return context;
        }
    }

    private CodeContext Find(string id) => _contexts.TryGetValue(id, out var context)
        ? context
        : id.StartsWith("default-", StringComparison.Ordinal) && KernelLanguage.Find(id["default-".Length..]) is { } language
            ? Default(language)
            : throw NotFound(id);

    /// <summary>
    /// Cuts text over the inline limit to its head and tail; the whole of <c>stdout</c> and <c>stderr</c> is kept
    /// on disk (the newest <see cref="KeptOutputs"/> calls) and readable through <see cref="ReadOutput"/>.
    /// </summary>
    private CodeExecResult Capped(CodeExecResult result)
    {
        var limit = state.Options.InlineOutputBytes;
        if (result.Stdout.Length <= limit && result.Stderr.Length <= limit && result.Outputs.All(o => (o.Text?.Length ?? 0) <= limit))
        {
            return result;
        }

        var id = "out_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        File.WriteAllText(Path.Combine(_spillDirectory.Value, id + ".stdout"), result.Stdout);
        File.WriteAllText(Path.Combine(_spillDirectory.Value, id + ".stderr"), result.Stderr);
        _kept.Enqueue(id);
        while (_kept.Count > KeptOutputs && _kept.TryDequeue(out var old))
        {
            File.Delete(Path.Combine(_spillDirectory.Value, old + ".stdout"));
            File.Delete(Path.Combine(_spillDirectory.Value, old + ".stderr"));
        }

        var note = $"\n[... {{0}} characters omitted: GET /code/outputs/{id}?stream={{1}}&offset=0 has all of it ...]\n";
        return result with
        {
            Stdout = Cap(result.Stdout, limit, note, "stdout"),
            Stderr = Cap(result.Stderr, limit, note, "stderr"),
            Outputs = result.Outputs.Select(o => o.Text is { } text && text.Length > limit ? o with { Text = Cap(text, limit, note, o.Name ?? "stdout") } : o).ToList(),
            Truncated = true,
            OutputId = id,
        };
    }

    private static string Cap(string text, int limit, string note, string stream) => text.Length <= limit
        ? text
        : string.Concat(text.AsSpan(0, limit / 2), string.Format(System.Globalization.CultureInfo.InvariantCulture, note, text.Length - limit, stream),
            text.AsSpan(text.Length - limit / 2));

    private static KernelLanguage Language(string? name) => KernelLanguage.Find(name)
        ?? throw Invalid($"Unknown language '{name}': use one of {string.Join(", ", KernelLanguage.All.Select(l => l.Name))}.");

    private static BoxException Invalid(string message) => new(BoxErrorKind.InvalidArgument, BoxErrorCodes.InvalidArgument, message);

    private static BoxException NotFound(string id) => new(BoxErrorKind.NotFound, BoxErrorCodes.ContextNotFound,
        $"No code context '{id}'; GET /code/contexts lists them.");
}
