using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Runable.Box.Client;
using Runable.Box.Protocol;
using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Workspaces;

/// <summary>
/// Fills a sandbox's workspace from a job's source (an upload, a git repository, or nothing) and records the
/// baseline: the commit a job's <c>diff.patch</c> is taken against.
/// </summary>
public sealed partial class WorkspaceSeeder(UploadStore uploads, GitCloner git, WorkspaceOptions options, ILogger<WorkspaceSeeder> logger)
{
    /// <summary>The ref under which the baseline is kept in the workspace's repository, so it survives resets and garbage collection.</summary>
    public const string BaselineRef = "refs/runable/baseline";

    /// <summary>
    /// Seeds the workspace of <paramref name="box"/>'s sandbox (expected empty) from <paramref name="source"/>, reading uploads of
    /// <paramref name="tenant"/> only, and returns the baseline commit id (see <see cref="BaselineAsync"/>).
    /// </summary>
    public async Task<string> SeedAsync(BoxClient box, string tenant, WorkspaceSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(source);
        if (source.UploadId is not null && source.GitUrl is not null)
        {
            throw new OrchestratorException(400, "invalid_argument", "A workspace takes one source: an upload or a git URL, not both.");
        }

        if (source.GitRef is not null && source.GitUrl is null)
        {
            throw new OrchestratorException(400, "invalid_argument", "A git ref needs a git URL.");
        }

        if (source.UploadId is { } uploadId)
        {
            await using var archive = uploads.OpenRead(tenant, uploadId);
            await UnpackAsync(box, archive, $"Unpacking upload {uploadId} into the sandbox", cancellationToken).ConfigureAwait(false);
            LogSeeded(logger, "upload " + uploadId);
        }
        else if (source.GitUrl is { } url)
        {
            using var repository = await git.CloneAsync(url, source.GitRef, cancellationToken).ConfigureAwait(false);
            var packed = Path.Combine(Path.GetDirectoryName(repository.Directory)!, "git.tar.gz");
            await using (var output = new FileStream(packed, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await repository.WriteGitArchiveAsync(output, cancellationToken).ConfigureAwait(false);
            }

            await using (var archive = new FileStream(packed, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous))
            {
                await UnpackAsync(box, archive, "Copying the repository into the sandbox", cancellationToken).ConfigureAwait(false);
            }

            // Only .git travelled: git checks the files out inside, so symlinks and modes are exactly the repository's.
            await SandboxGit.RunAsync(box, """
                "${G[@]}" reset -q --hard HEAD
                "${G[@]}" rev-parse HEAD
                """, "Checking out the repository", options.SandboxGitTimeout, cancellationToken).ConfigureAwait(false);
            LogSeeded(logger, GitCloner.Redact(url) + " at " + repository.Commit);
        }

        return await BaselineAsync(box, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the workspace as it is now and returns that commit's id. A git repository whose work tree matches its
    /// HEAD gives HEAD; one with changes (or untracked files) gets a commit on top of HEAD holding them, made with a
    /// temporary index so its branch, index and files are untouched; a repository without commits, or a directory that
    /// is none, is committed as is (<c>git init</c> first). Ignored files are left out, as from every diff.
    /// </summary>
    public async Task<string> BaselineAsync(BoxClient box, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(box);
        var commit = await SandboxGit.RunAsync(box, $$"""
            message='Runable baseline: the workspace as the job found it'
            if [ "$("${G[@]}" rev-parse --show-toplevel 2>/dev/null)" != "$(pwd -P)" ]; then
              "${G[@]}" init -q .
            fi
            if head=$("${G[@]}" rev-parse -q --verify 'HEAD^{commit}'); then
              index=$(mktemp "$("${G[@]}" rev-parse --absolute-git-dir)/runable-index.XXXXXX")
              trap 'rm -f "$index"' EXIT
              rm -f "$index"
              cp "$("${G[@]}" rev-parse --git-path index)" "$index" 2>/dev/null || true
              GIT_INDEX_FILE=$index "${G[@]}" add -A
              tree=$(GIT_INDEX_FILE=$index "${G[@]}" write-tree)
              if [ "$tree" = "$("${G[@]}" rev-parse 'HEAD^{tree}')" ]; then
                base=$head
              else
                base=$("${G[@]}" commit-tree "$tree" -p "$head" -m "$message")
              fi
            else
              "${G[@]}" add -A
              "${G[@]}" commit -q --no-verify --allow-empty -m "$message"
              base=$("${G[@]}" rev-parse HEAD)
            fi
            "${G[@]}" update-ref {{BaselineRef}} "$base"
            echo "$base"
            """, "Recording the workspace's baseline", options.SandboxGitTimeout, cancellationToken).ConfigureAwait(false);
        if (!CommitId().IsMatch(commit))
        {
            throw new OrchestratorException(502, "workspace_git_failed", $"Recording the workspace's baseline gave '{commit}' instead of a commit id.");
        }

        return commit;
    }

    private static async Task UnpackAsync(BoxClient box, Stream archive, string what, CancellationToken cancellationToken)
    {
        try
        {
            await box.UploadArchiveAsync("", archive, cancellationToken).ConfigureAwait(false);
        }
        catch (BoxException e)
        {
            throw new OrchestratorException(e.Kind == BoxErrorKind.InvalidArgument ? 400 : 502, "workspace_seed_failed", $"{what} failed: {e.Message}");
        }
    }

    [GeneratedRegex("^[0-9a-f]{40}([0-9a-f]{24})?$")]
    internal static partial Regex CommitId();

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded a workspace from {Source}")]
    private static partial void LogSeeded(ILogger logger, string source);
}
