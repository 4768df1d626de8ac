using Microsoft.Extensions.Options;
using Runable.Box.Protocol;

namespace Runable.Box;

/// <summary>
/// Where the box keeps its own state (output spools, session scripts) and how commands see the world:
/// the workspace as their default directory and an environment free of the box's credentials.
/// </summary>
public sealed class BoxState : IDisposable
{
    /// <summary>Environment variables that carry the box's own credentials and never reach a command.</summary>
    public static readonly IReadOnlySet<string> SecretVariables = new HashSet<string>(StringComparer.Ordinal)
    {
        "RUNABLE_BOX_TOKEN", "AGENT_API_KEY", "RUNABLE_API_KEY",
    };

    private readonly bool _ownsStateDirectory;

    public BoxState(IOptions<BoxOptions> options)
    {
        Options = options.Value;
        if (!Directory.Exists(Options.Workspace))
        {
            throw new InvalidOperationException($"The workspace '{Options.Workspace}' does not exist; create it or pass another --workspace.");
        }

        Workspace = Path.GetFullPath(Options.Workspace).TrimEnd('/');
        if (Workspace.Length == 0)
        {
            Workspace = "/";
        }

        if (Options.StateDirectory is { Length: > 0 } state)
        {
            StateDirectory = Path.GetFullPath(state);
            Directory.CreateDirectory(StateDirectory);
        }
        else
        {
            StateDirectory = Directory.CreateTempSubdirectory("runable-box-").FullName;
            _ownsStateDirectory = true;
        }

        File.SetUnixFileMode(StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        WorkCgroupProcs = Options.WorkCgroupDirectory is { Length: > 0 } cgroups && Directory.Exists(cgroups)
            ? Directory.GetFiles(cgroups).Order(StringComparer.Ordinal).ToList()
            : [];
    }

    /// <summary>The cgroup.procs files commands are moved into (empty outside a sandbox).</summary>
    public IReadOnlyList<string> WorkCgroupProcs { get; }

    /// <summary>The validated options.</summary>
    public BoxOptions Options { get; }

    /// <summary>The absolute path of the workspace, without a trailing slash.</summary>
    public string Workspace { get; }

    /// <summary>The directory for spools and scripts, private to the box's user.</summary>
    public string StateDirectory { get; }

    /// <summary>
    /// <c>DISPLAY</c> and <c>XAUTHORITY</c> of the box's desktop while it runs (set by the desktop service), so
    /// programs that commands start appear on it; null before the desktop's first use.
    /// </summary>
    public IReadOnlyDictionary<string, string>? DesktopEnvironment { get; internal set; }

    /// <summary>Creates (if needed) and returns a subdirectory of the state directory.</summary>
    public string StatePath(params string[] parts)
    {
        var path = Path.Combine([StateDirectory, .. parts]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// Resolves a command's working directory: relative paths are taken from the workspace. Commands are not
    /// confined to the workspace (the sandbox confines them); the directory must exist.
    /// </summary>
    public string ResolveWorkingDirectory(string? cwd)
    {
        if (string.IsNullOrEmpty(cwd))
        {
            return Workspace;
        }

        if (cwd.Contains('\0', StringComparison.Ordinal))
        {
            throw BoxException.InvalidArgument("cwd must not contain NUL bytes.");
        }

        var full = Path.GetFullPath(cwd, Workspace);
        if (!Directory.Exists(full))
        {
            throw BoxException.InvalidArgument($"cwd '{cwd}' is not a directory (resolved to '{full}').");
        }

        return full;
    }

    /// <summary>The environment for a new command: the box's own, less its secrets, plus agent-friendly defaults and <paramref name="extra"/>.</summary>
    public Dictionary<string, string> CommandEnvironment(IReadOnlyDictionary<string, string>? extra)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (!SecretVariables.Contains(name) && !name.StartsWith("DOTNET_", StringComparison.Ordinal) &&
                !name.StartsWith("ASPNETCORE_", StringComparison.Ordinal))
            {
                env[name] = (string?)entry.Value ?? "";
            }
        }

        env.TryAdd("PAGER", "cat");
        env.TryAdd("GIT_PAGER", "cat");
        env.TryAdd("LANG", "C.UTF-8");
        env["RUNABLE_WORKSPACE"] = Workspace;
        if (DesktopEnvironment is { } desktop)
        {
            foreach (var (name, value) in desktop)
            {
                env[name] = value;
            }
        }

        if (extra is not null)
        {
            foreach (var (name, value) in extra)
            {
                ValidateVariable(name, value);
                env[name] = value;
            }
        }

        return env;
    }

    /// <summary>Refuses environment variable names a shell could not export, and NUL bytes.</summary>
    public static void ValidateVariable(string name, string value)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_') ||
            !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw BoxException.InvalidArgument($"env name '{name}' is not a valid variable name (letters, digits and _, not starting with a digit).");
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw BoxException.InvalidArgument($"env value of '{name}' must not contain NUL bytes.");
        }
    }

    public void Dispose()
    {
        if (_ownsStateDirectory)
        {
            try
            {
                Directory.Delete(StateDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A spool still open by a dying reader; the temp directory is cleaned by the OS later.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
