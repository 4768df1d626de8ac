using Runable.Box.Client;
using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Workspaces;

/// <summary>
/// Takes a finished job's artifacts from its sandbox into the <see cref="ArtifactStore"/>: <c>diff.patch</c>, everything
/// changed since the baseline, and <c>workspace.tar.gz</c>, the whole workspace.
/// </summary>
public sealed class WorkspaceArtifacts(ArtifactStore artifacts, WorkspaceOptions options)
{
    public const string DiffName = "diff.patch";

    public const string WorkspaceArchiveName = "workspace.tar.gz";

    /// <summary>Saves both artifacts of <paramref name="jobId"/> (the diff first, so the archive never holds its temporary file).</summary>
    public async Task<IReadOnlyList<ArtifactInfo>> CollectAsync(BoxClient box, string jobId, string baseline, CancellationToken cancellationToken = default)
    {
        var diff = await SaveDiffAsync(box, jobId, baseline, cancellationToken).ConfigureAwait(false);
        var archive = await SaveWorkspaceArchiveAsync(box, jobId, cancellationToken).ConfigureAwait(false);
        return [diff, archive];
    }

    /// <summary>
    /// Saves <c>diff.patch</c>: the work tree against <paramref name="baseline"/> in git's binary-safe format, with new, deleted
    /// and binary files (not ignored ones), so <c>git apply</c> turns the original into the result. A temporary index is
    /// used: the repository's own index, branch and files are untouched.
    /// </summary>
    public async Task<ArtifactInfo> SaveDiffAsync(BoxClient box, string jobId, string baseline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(box);
        if (baseline is null || !WorkspaceSeeder.CommitId().IsMatch(baseline))
        {
            throw new OrchestratorException(400, "invalid_argument", $"'{baseline}' is not a commit id.");
        }

        var patch = await SandboxGit.RunAsync(box, $$"""
            gitdir=$("${G[@]}" rev-parse --absolute-git-dir)
            index=$(mktemp "$gitdir/runable-index.XXXXXX")
            trap 'rm -f "$index"' EXIT
            rm -f "$index"
            cp "$("${G[@]}" rev-parse --git-path index)" "$index" 2>/dev/null || true
            GIT_INDEX_FILE=$index "${G[@]}" add -A
            patch=$(mktemp "$gitdir/runable-diff.XXXXXX")
            GIT_INDEX_FILE=$index "${G[@]}" diff --cached --binary --no-color --no-ext-diff --no-textconv --src-prefix=a/ --dst-prefix=b/ {{baseline}} > "$patch"
            realpath --relative-to="$(pwd -P)" "$patch"
            """, "Taking the workspace's diff", options.SandboxGitTimeout, cancellationToken).ConfigureAwait(false);
        if (patch.StartsWith("../", StringComparison.Ordinal) || patch.StartsWith('/'))
        {
            throw new OrchestratorException(502, "workspace_git_failed", "The workspace's git directory is outside the workspace; its diff cannot be read.");
        }

        try
        {
            return await SaveFromBoxAsync(box, $"files?path={Uri.EscapeDataString(patch)}", jobId, DiffName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await box.DeleteAsync(patch, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Saves <c>workspace.tar.gz</c>: the whole workspace (with its <c>.git</c>), streamed from the box to disk.</summary>
    public Task<ArtifactInfo> SaveWorkspaceArchiveAsync(BoxClient box, string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(box);
        return SaveFromBoxAsync(box, "files/archive?path=", jobId, WorkspaceArchiveName, cancellationToken);
    }

    /// <summary>Streams a box download into the store (the typed client would hold it all in memory).</summary>
    private async Task<ArtifactInfo> SaveFromBoxAsync(BoxClient box, string route, string jobId, string name, CancellationToken cancellationToken)
    {
        using var response = await box.Http.GetAsync(route, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new OrchestratorException(502, "workspace_download_failed",
                $"Downloading {name} from the sandbox failed: the box answered {(int)response.StatusCode} {(body.Length > 1000 ? body[..1000] : body)}");
        }

        await using var content = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await artifacts.SaveAsync(jobId, name, content, cancellationToken).ConfigureAwait(false);
    }
}
