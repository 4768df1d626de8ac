namespace Runable.Orchestrator.Workspaces;

/// <summary>How a git command on the orchestrator host ended.</summary>
internal sealed record GitResult(int? ExitCode, string Output, string Error, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0;
}
