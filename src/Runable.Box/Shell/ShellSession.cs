using Runable.Box.Processes;
using Runable.Box.Protocol.Shell;

namespace Runable.Box.Shell;

/// <summary>
/// A named, persistent shell: directory, exported and shell variables live on between commands. Commands run
/// one at a time. A command that outlives its timeout does not wedge the session: the session moves to a new
/// shell with the same directory and exported variables, and the old one is killed or left to finish.
/// </summary>
public sealed class ShellSession : IDisposable
{
    private readonly BoxState _state;
    private readonly string _directory;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string _initialCwd;
    private SessionShell? _shell;

    internal ShellSession(string id, BoxState state, string cwd, IReadOnlyDictionary<string, string> environment, DateTimeOffset createdAt)
    {
        Id = id;
        _state = state;
        _directory = state.StatePath("sessions", id);
        _initialCwd = cwd;
        _environment = environment;
        CreatedAt = createdAt;
    }

    public string Id { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>Held while a command runs, so commands of one session run in order.</summary>
    internal SemaphoreSlim Lock { get; } = new(1, 1);

    /// <summary>
    /// True when the current shell has exited. A command's end is recorded only after its shell's exit when the
    /// command ended the shell ('exit', or 'set -e' and a failure), so this is exact right after a command ends.
    /// </summary>
    internal bool ShellHasExited => _shell?.Exited.IsCompleted ?? false;

    /// <summary>A snapshot for the API.</summary>
    public ShellSessionInfo ToInfo() => new()
    {
        SessionId = Id,
        CreatedAt = CreatedAt,
        Busy = Lock.CurrentCount == 0,
        Cwd = ReadCwd(),
    };

    /// <summary>Runs a command in the session's shell (starting or restoring the shell when needed); the caller holds <see cref="Lock"/>.</summary>
    internal async Task<bool> BeginAsync(SupervisedProcess entry, ShellExecRequest request, string? cwd, CancellationToken cancellationToken)
    {
        var reset = false;
        if (_shell is null || _shell.Exited.IsCompleted)
        {
            reset = _shell is not null;
            await ReplaceShellAsync(killOld: false, cancellationToken).ConfigureAwait(false);
        }

        await _shell!.BeginAsync(entry, request.Command!, cwd, request.Env, request.Stdin, cancellationToken).ConfigureAwait(false);
        return reset;
    }

    /// <summary>
    /// Moves the session to a new shell with the old one's directory and exported variables. The old shell is
    /// killed, or (when <paramref name="killOld"/> is false) left to finish its command and exit.
    /// </summary>
    internal async Task ReplaceShellAsync(bool killOld, CancellationToken cancellationToken)
    {
        var old = _shell;
        string? restore = null;
        if (old is not null)
        {
            restore = Path.Combine(_directory, "restore.sh");
            if (File.Exists(old.StateFile))
            {
                File.Copy(old.StateFile, restore, overwrite: true);
            }

            if (killOld)
            {
                old.Kill();
            }
            else
            {
                old.Detach();
            }
        }

        var shellDirectory = _state.StatePath("sessions", Id, $"shell-{Guid.NewGuid():N}");
        if (restore is not null && File.Exists(restore))
        {
            File.Copy(restore, Path.Combine(shellDirectory, "state.sh"));
        }

        var cwd = ReadCwd() is { } last && Directory.Exists(last) ? last : _initialCwd;
        _shell = await SessionShell.StartAsync(_state, shellDirectory, cwd, _environment, restore, cancellationToken).ConfigureAwait(false);
        if (old is not null)
        {
            _ = DisposeWhenExitedAsync(old);
        }
    }

    public void Dispose()
    {
        _shell?.Kill();
        _shell?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string? ReadCwd()
    {
        var file = _shell?.CwdFile;
        try
        {
            return file is not null && File.Exists(file) ? File.ReadAllText(file) : _initialCwd;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task DisposeWhenExitedAsync(SessionShell shell)
    {
        await shell.Exited.ConfigureAwait(false);
        shell.Dispose();
    }
}
