using Runable.Box.Client;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Shell;
using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Workspaces;

/// <summary>
/// Runs git scripts in a sandbox's workspace through its box's shell. Git reads neither the system nor the user's
/// global configuration and never prompts; identity, signing and hooks are set per command (<c>-c</c>), so nothing
/// of the user's configuration is read or changed.
/// </summary>
internal static class SandboxGit
{
    /// <summary>A bash array <c>G</c>: git with the options every workspace command uses.</summary>
    public const string Prelude = """
        set -euo pipefail
        G=(git -c user.name=Runable -c user.email=runable@localhost -c commit.gpgsign=false -c tag.gpgsign=false
           -c core.hooksPath=/dev/null -c core.fsmonitor=false -c init.defaultBranch=main -c 'safe.directory=*'
           -c diff.noprefix=false -c diff.mnemonicPrefix=false -c core.quotePath=false -c advice.detachedHead=false)

        """;

    private static readonly Dictionary<string, string> s_environment = new(StringComparer.Ordinal)
    {
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["LC_ALL"] = "C",
    };

    /// <summary>Runs <paramref name="script"/> (after <see cref="Prelude"/>) in the workspace; returns its trimmed standard output.
    /// A failure is 502 <c>workspace_git_failed</c> naming <paramref name="what"/> and git's message.</summary>
    public static async Task<string> RunAsync(BoxClient box, string script, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ShellExecResult result;
        try
        {
            result = await box.ExecAsync(new ShellExecRequest
            {
                Command = Prelude + script,
                Env = s_environment,
                TimeoutS = timeout.TotalSeconds,
                OnTimeout = OnTimeout.Kill,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (BoxException e)
        {
            throw new OrchestratorException(502, "workspace_git_failed", $"{what} failed: the sandbox's box answered {e.Code}: {e.Message}");
        }

        if (result.TimedOut || result.ExitCode is null)
        {
            throw new OrchestratorException(504, "workspace_git_failed", $"{what} took longer than {timeout.TotalSeconds:0} s in the sandbox and was stopped.");
        }

        if (result.ExitCode != 0)
        {
            var error = result.Stderr.Trim();
            throw new OrchestratorException(502, "workspace_git_failed",
                $"{what} failed in the sandbox (exit {result.ExitCode}): {(error.Length > 2000 ? error[^2000..] : error)}");
        }

        return result.Stdout.Trim();
    }

    /// <summary>A value quoted for bash.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
