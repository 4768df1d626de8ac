using System.Text.RegularExpressions;
using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Workspaces;

/// <summary>
/// What finished jobs leave (<c>diff.patch</c>, <c>workspace.tar.gz</c>, <c>trajectory.jsonl</c> ...), one directory per job under
/// <c>DATA/artifacts</c>. Each artifact is written to a temporary file and renamed into place, so a reader sees the
/// previous version or the whole new one, never a part. Tenancy is the caller's: look the job up for the tenant first.
/// </summary>
public sealed partial class ArtifactStore
{
    private readonly string _root;
    private readonly string _partial;
    private readonly TimeProvider _time;

    public ArtifactStore(string dataDirectory, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        _root = Path.Combine(dataDirectory, "artifacts");
        _partial = Path.Combine(_root, ".partial");
        _time = time;
        AtomicFile.Clean(_partial);
    }

    /// <summary>Saves (or replaces) the artifact <paramref name="name"/> of <paramref name="jobId"/> with everything <paramref name="content"/> holds.</summary>
    public async Task<ArtifactInfo> SaveAsync(string jobId, string name, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var destination = PathOf(jobId, name);
        var (temporary, size) = await AtomicFile.WriteTemporaryAsync(_partial, content, long.MaxValue, "artifact_too_large", cancellationToken).ConfigureAwait(false);
        try
        {
            var created = AtomicFile.Truncate(_time.GetUtcNow());
            AtomicFile.Commit(temporary, destination, created);
            return new ArtifactInfo(name, size, created);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Opens an artifact for reading; 404 <c>artifact_not_found</c> when the job has none by that name.</summary>
    public Stream OpenRead(string jobId, string name) =>
        new FileStream(Find(jobId, name), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>One artifact's size and time; 404 when absent.</summary>
    public ArtifactInfo Get(string jobId, string name) => Info(new FileInfo(Find(jobId, name)));

    /// <summary>The job's artifacts by name (none when it has none).</summary>
    public IReadOnlyList<ArtifactInfo> List(string jobId)
    {
        var directory = new DirectoryInfo(Path.Combine(_root, CheckJobId(jobId)));
        return directory.Exists ? [.. directory.EnumerateFiles().Where(f => ArtifactName().IsMatch(f.Name)).Select(Info).OrderBy(a => a.Name, StringComparer.Ordinal)] : [];
    }

    /// <summary>Deletes every artifact of the job.</summary>
    public void Delete(string jobId)
    {
        var directory = Path.Combine(_root, CheckJobId(jobId));
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The media type to serve an artifact with.</summary>
    public static string ContentType(string name) => name switch
    {
        _ when name.EndsWith(".patch", StringComparison.Ordinal) || name.EndsWith(".diff", StringComparison.Ordinal) => "text/x-diff",
        _ when name.EndsWith(".tar.gz", StringComparison.Ordinal) || name.EndsWith(".tgz", StringComparison.Ordinal) => "application/gzip",
        _ when name.EndsWith(".jsonl", StringComparison.Ordinal) => "application/x-ndjson",
        _ when name.EndsWith(".json", StringComparison.Ordinal) => "application/json",
        _ when name.EndsWith(".txt", StringComparison.Ordinal) || name.EndsWith(".log", StringComparison.Ordinal) => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };

    private string Find(string jobId, string name)
    {
        var path = PathOf(jobId, name);
        return File.Exists(path) ? path : throw new OrchestratorException(404, "artifact_not_found", $"Job {jobId} has no artifact '{name}'.");
    }

    private string PathOf(string jobId, string name)
    {
        if (name is null || !ArtifactName().IsMatch(name))
        {
            throw new OrchestratorException(400, "invalid_argument", $"'{name}' is not an artifact name (letters, digits, '.', '_' and '-', starting with a letter or digit).");
        }

        return Path.Combine(_root, CheckJobId(jobId), name);
    }

    private static string CheckJobId(string jobId) => jobId is not null && JobId().IsMatch(jobId)
        ? jobId
        : throw new OrchestratorException(400, "invalid_argument", $"'{jobId}' is not a job id.");

    private static ArtifactInfo Info(FileInfo file) => new(file.Name, file.Length, AtomicFile.Truncate(new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero)));

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex ArtifactName();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")]
    private static partial Regex JobId();
}
