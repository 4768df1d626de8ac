using System.Security.Cryptography;
using System.Text;
using Runable.Box.Processes;

namespace Runable.Box.Shell;

/// <summary>
/// One bash process serving a session. Commands are sourced from a script file, with their standard input
/// redirected away from the control pipe; after each command the shell saves its directory and exported
/// variables and prints a marker with a random nonce on both streams, so the output of each command is
/// delimited exactly whatever bytes it holds.
/// </summary>
internal sealed class SessionShell : IDisposable
{
    private const int MaxStrayBytes = 64 * 1024;
    private readonly object _gate = new();
    private readonly string _directory;
    private readonly ChildProcess _bash;
    private readonly MemoryStream _strayOut = new();
    private readonly MemoryStream _strayErr = new();
    private SupervisedProcess? _current;
    private MarkerScanner? _outScanner;
    private MarkerScanner? _errScanner;
    private int? _status;
    private bool _stderrDone;

    private SessionShell(BoxState state, string directory, string cwd, IReadOnlyDictionary<string, string> environment)
    {
        _directory = directory;
        _bash = ChildProcess.Start(new ChildProcessOptions
        {
            FileName = state.Options.Shell,
            Arguments = ["--noprofile", "--norc"],
            WorkingDirectory = cwd,
            Environment = environment,
            Cgroups = state.WorkCgroupProcs,
            Stdout = new Sink(this, stderr: false),
            Stderr = new Sink(this, stderr: true),
        });
        _ = OnShellExitedAsync();
    }

    /// <summary>The shell's process id (and process group).</summary>
    public int Pid => _bash.Pid;

    /// <summary>Completes when the shell exits.</summary>
    public Task<int> Exited => _bash.Exited;

    /// <summary>The file the shell writes its directory and exported variables to after each command.</summary>
    public string StateFile => Path.Combine(_directory, "state.sh");

    /// <summary>The file holding the shell's working directory after its last command.</summary>
    public string CwdFile => Path.Combine(_directory, "cwd");

    /// <summary>Starts a shell; when <paramref name="restoreFrom"/> exists, its directory and exported variables are restored first.</summary>
    public static async Task<SessionShell> StartAsync(BoxState state, string directory, string cwd,
        IReadOnlyDictionary<string, string> environment, string? restoreFrom, CancellationToken cancellationToken)
    {
        var shell = new SessionShell(state, directory, cwd, environment);
        if (restoreFrom is not null && File.Exists(restoreFrom))
        {
            var line = $"builtin . {ShellQuoting.Quote(restoreFrom)} >/dev/null 2>&1\n";
            await shell._bash.WriteStdinAsync(Encoding.UTF8.GetBytes(line), cancellationToken).ConfigureAwait(false);
        }

        return shell;
    }

    /// <summary>Sends a command to the shell; <paramref name="entry"/> receives its output and exit status.</summary>
    public async Task BeginAsync(SupervisedProcess entry, string command, string? cwd, IReadOnlyDictionary<string, string>? env,
        string? stdin, CancellationToken cancellationToken)
    {
        var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var script = new StringBuilder();
        foreach (var (name, value) in env ?? new Dictionary<string, string>())
        {
            BoxState.ValidateVariable(name, value);
            script.Append("builtin export ").Append(name).Append('=').Append(ShellQuoting.Quote(value)).Append('\n');
        }

        if (cwd is not null)
        {
            script.Append("builtin cd -- ").Append(ShellQuoting.Quote(cwd)).Append(" || builtin return $?\n");
        }

        script.Append(command).Append('\n');
        var scriptFile = Path.Combine(_directory, "command.sh");
        await File.WriteAllTextAsync(scriptFile, script.ToString(), cancellationToken).ConfigureAwait(false);
        var input = "/dev/null";
        if (stdin is not null)
        {
            input = Path.Combine(_directory, "stdin");
            await File.WriteAllTextAsync(input, stdin, cancellationToken).ConfigureAwait(false);
        }

        byte[] strayOut, strayErr;
        lock (_gate)
        {
            _current = entry;
            _outScanner = new MarkerScanner(nonce);
            _errScanner = new MarkerScanner(nonce);
            _status = null;
            _stderrDone = false;
            strayOut = _strayOut.ToArray();
            strayErr = _strayErr.ToArray();
            _strayOut.SetLength(0);
            _strayErr.SetLength(0);
        }

        entry.AttachGroup(_bash.Pid);
        entry.Stdout.Append(strayOut);
        entry.Stderr.Append(strayErr);

        var marker = MarkerScanner.Prefix(nonce);
        var control =
            $"{{ builtin . {ShellQuoting.Quote(scriptFile)}; }} < {ShellQuoting.Quote(input)}\n" +
            "__runable_status=$?; " +
            $"{{ builtin printf 'builtin cd -- %q\\n' \"$PWD\"; builtin export -p; }} > {ShellQuoting.Quote(StateFile)} 2>/dev/null; " +
            $"builtin printf '%s' \"$PWD\" > {ShellQuoting.Quote(CwdFile)} 2>/dev/null; " +
            $"builtin printf '{marker}:%d\\036' \"$__runable_status\"; builtin printf '{marker}\\036' >&2; " +
            "builtin unset __runable_status\n";
        if (!await _bash.WriteStdinAsync(Encoding.UTF8.GetBytes(control), cancellationToken).ConfigureAwait(false))
        {
            Finish(entry, await _bash.Exited.ConfigureAwait(false));
        }
    }

    /// <summary>Lets the running command finish on its own: the shell exits once it is done.</summary>
    public void Detach() => _bash.CloseStdin();

    /// <summary>Kills the shell and everything it started.</summary>
    public void Kill() => _bash.KillGroup();

    public void Dispose()
    {
        _bash.Dispose();
    }

    private void OnData(bool stderr, ReadOnlySpan<byte> data)
    {
        SupervisedProcess? finished = null;
        int status = 0;
        lock (_gate)
        {
            var scanner = stderr ? _errScanner : _outScanner;
            var entry = _current;
            if (entry is null || scanner is null || (stderr ? _stderrDone : _status is not null))
            {
                var stray = stderr ? _strayErr : _strayOut;
                if (stray.Length + data.Length <= MaxStrayBytes)
                {
                    stray.Write(data);
                }

                return;
            }

            var output = scanner.Scan(data, out var marker, out var rest);
            (stderr ? entry.Stderr : entry.Stdout).Append(output);
            if (marker is null)
            {
                return;
            }

            (stderr ? _strayErr : _strayOut).Write(rest);
            if (stderr)
            {
                _stderrDone = true;
            }
            else
            {
                _status = int.TryParse(marker.TrimStart(':'), out var parsed) ? parsed : 1;
            }

            if (_stderrDone && _status is { } done)
            {
                finished = entry;
                status = done;
                _current = null;
            }
        }

        if (finished is not null)
        {
            Complete(finished, status);
        }
    }

    private async Task OnShellExitedAsync()
    {
        var exitCode = await _bash.Exited.ConfigureAwait(false);
        try
        {
            // Output still in the pipes belongs to the last command; children that keep the pipes open get a short grace.
            await _bash.OutputClosed.WaitAsync(TimeSpan.FromMilliseconds(250)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        SupervisedProcess? entry;
        byte[] pendingOut = [], pendingErr = [];
        lock (_gate)
        {
            entry = _current;
            _current = null;
            if (entry is not null)
            {
                pendingOut = _status is null ? _outScanner?.Flush() ?? [] : [];
                pendingErr = _stderrDone ? [] : _errScanner?.Flush() ?? [];
            }
        }

        if (entry is not null)
        {
            entry.Stdout.Append(pendingOut);
            entry.Stderr.Append(pendingErr);
            Finish(entry, exitCode);
        }
    }

    private void Finish(SupervisedProcess entry, int exitCode)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_current, entry))
            {
                _current = null;
            }
        }

        Complete(entry, exitCode);
    }

    private static void Complete(SupervisedProcess entry, int status)
    {
        entry.Stdout.Complete();
        entry.Stderr.Complete();
        entry.MarkExited(status);
    }

    private sealed class Sink(SessionShell shell, bool stderr) : IOutputSink
    {
        public void Append(ReadOnlySpan<byte> data) => shell.OnData(stderr, data);

        public void Complete()
        {
        }
    }
}
