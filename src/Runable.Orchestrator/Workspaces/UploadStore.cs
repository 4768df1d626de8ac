using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Workspaces;

/// <summary>
/// Uploaded workspace archives (tar.gz), one directory per tenant under <c>DATA/uploads</c>. An upload is written to a
/// temporary file, validated (<see cref="ArchiveValidator"/>) and only then renamed into place, so nothing half-written
/// or unchecked is ever visible. A tenant sees only its own uploads; another tenant's id answers 404 as if absent.
/// </summary>
public sealed partial class UploadStore
{
    private readonly string _root;
    private readonly string _partial;
    private readonly WorkspaceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<UploadStore> _logger;

    public UploadStore(string dataDirectory, WorkspaceOptions options, TimeProvider time, ILogger<UploadStore> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(options);
        _root = Path.Combine(dataDirectory, "uploads");
        _partial = Path.Combine(_root, ".partial");
        _options = options;
        _time = time;
        _logger = logger;
        AtomicFile.Clean(_partial);
    }

    /// <summary>The largest upload accepted, in compressed bytes.</summary>
    public long MaxBytes => _options.MaxUploadBytes;

    /// <summary>Stores <paramref name="content"/> for <paramref name="tenant"/> once it proved a safe tar.gz; 400 <c>invalid_archive</c>
    /// or 413 <c>upload_too_large</c> otherwise, and nothing is kept.</summary>
    public async Task<UploadInfo> SaveAsync(string tenant, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var (temporary, size) = await AtomicFile.WriteTemporaryAsync(_partial, content, _options.MaxUploadBytes, "upload_too_large", cancellationToken)
            .ConfigureAwait(false);
        try
        {
            var entries = await ArchiveValidator.ValidateFileAsync(temporary, _options.MaxUploadExpandedBytes, cancellationToken).ConfigureAwait(false);
            var id = "upl_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            var created = AtomicFile.Truncate(_time.GetUtcNow());
            AtomicFile.Commit(temporary, PathOf(tenant, id), created);
            LogStored(_logger, id, tenant, size, entries);
            return new UploadInfo(id, size, created);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>One of the tenant's uploads; 404 <c>upload_not_found</c> when it has none by that id.</summary>
    public UploadInfo Get(string tenant, string id) => Info(id, new FileInfo(Find(tenant, id)));

    /// <summary>The tenant's uploads, oldest first.</summary>
    public IReadOnlyList<UploadInfo> List(string tenant)
    {
        var directory = new DirectoryInfo(TenantDirectory(tenant));
        if (!directory.Exists)
        {
            return [];
        }

        return [.. directory.EnumerateFiles("upl_*.tar.gz")
            .Select(f => Info(f.Name[..^".tar.gz".Length], f))
            .OrderBy(u => u.CreatedAt).ThenBy(u => u.Id, StringComparer.Ordinal)];
    }

    /// <summary>Opens one of the tenant's uploads for reading (a seeding in progress keeps reading it even if it is deleted meanwhile).</summary>
    public Stream OpenRead(string tenant, string id) =>
        new FileStream(Find(tenant, id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>Deletes one of the tenant's uploads; 404 when it has none by that id.</summary>
    public void Delete(string tenant, string id) => File.Delete(Find(tenant, id));

    private string Find(string tenant, string id)
    {
        if (id is not null && UploadId().IsMatch(id))
        {
            var path = PathOf(tenant, id);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new OrchestratorException(404, "upload_not_found", $"No upload '{id}' for this key's tenant; POST /v1/uploads returns the id to use.");
    }

    private string PathOf(string tenant, string id) => Path.Combine(TenantDirectory(tenant), id + ".tar.gz");

    /// <summary>A tenant's directory, named by a hash: tenant names are free text.</summary>
    private string TenantDirectory(string tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return Path.Combine(_root, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tenant)))[..32]);
    }

    private static UploadInfo Info(string id, FileInfo file) =>
        new(id, file.Length, AtomicFile.Truncate(new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero)));

    [GeneratedRegex("^upl_[0-9a-f]{24}$")]
    private static partial Regex UploadId();

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored upload {UploadId} for tenant {Tenant}: {Bytes} bytes, {Entries} entries")]
    private static partial void LogStored(ILogger logger, string uploadId, string tenant, long bytes, int entries);
}
