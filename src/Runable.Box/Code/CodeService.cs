using System.Collections.Concurrent;
using System.Security.Cryptography;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Code;

namespace Runable.Box.Code;

/// <summary>
/// Runs code in persistent Jupyter kernels: one default context per language, used when a call names none,
/// and any number of named contexts (up to <see cref="BoxOptions.MaxCodeContexts"/>). Kernels start on first
/// use; calls to one context run in order, different contexts run in parallel.
/// </summary>
public sealed class CodeService(BoxState state) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, CodeContext> _contexts = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly Lazy<bool> _python = new(() => OnPath(state.Options.Python));
    private readonly Lazy<bool> _typescript = new(() => OnPath(state.Options.Tslab));

    /// <summary>True when Python kernels can start here (the configured Python exists).</summary>
    public bool PythonAvailable => _python.Value;

    /// <summary>True when TypeScript kernels can start here (tslab is installed).</summary>
    public bool TypeScriptAvailable => _typescript.Value;

    /// <summary>Runs <paramref name="request"/>'s code and returns what it produced.</summary>
    public Task<CodeExecResult> ExecuteAsync(CodeExecRequest request, CancellationToken cancellationToken = default)
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
        return context.ExecuteAsync(request.Code, TimeSpan.FromSeconds(seconds), cancellationToken);
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

    public IReadOnlyList<CodeContextInfo> List() => _contexts.Values.Select(c => c.Info()).OrderBy(c => c.ContextId, StringComparer.Ordinal).ToList();

    public CodeContextInfo Get(string id) => Find(id).Info();

    public void Interrupt(string id) => Find(id).Interrupt();

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

    private static bool OnPath(string program) => program.Contains('/', StringComparison.Ordinal)
        ? File.Exists(program)
        : (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, program)));

    private static KernelLanguage Language(string? name) => KernelLanguage.Find(name)
        ?? throw Invalid($"Unknown language '{name}': use one of {string.Join(", ", KernelLanguage.All.Select(l => l.Name))}.");

    private static BoxException Invalid(string message) => new(BoxErrorKind.InvalidArgument, BoxErrorCodes.InvalidArgument, message);

    private static BoxException NotFound(string id) => new(BoxErrorKind.NotFound, BoxErrorCodes.ContextNotFound,
        $"No code context '{id}'; GET /code/contexts lists them.");
}
