using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Workspaces;

/// <summary>
/// Writes files so that readers see either nothing or the whole file: the bytes go to a temporary file on the same
/// file system, are flushed to disk, and the file is renamed into place.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Copies <paramref name="content"/> to a new temporary file in <paramref name="directory"/>; more than
    /// <paramref name="maxBytes"/> throws 413 <paramref name="tooLargeCode"/>. Returns the file's path and size.</summary>
    public static async Task<(string Path, long Size)> WriteTemporaryAsync(string directory, Stream content, long maxBytes, string tooLargeCode,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{Guid.NewGuid():N}.part");
        try
        {
            long size = 0;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    size += read;
                    if (size > maxBytes)
                    {
                        throw new OrchestratorException(413, tooLargeCode, $"The content is larger than {maxBytes} bytes, the most accepted here.");
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }

                file.Flush(flushToDisk: true);
            }

            return (path, size);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Renames a temporary file into place (replacing what was there) with the given modification time.</summary>
    public static void Commit(string temporary, string destination, DateTimeOffset modified)
    {
        File.SetLastWriteTimeUtc(temporary, modified.UtcDateTime);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        File.Move(temporary, destination, overwrite: true);
    }

    /// <summary>Removes what interrupted writes left in <paramref name="directory"/> (at start, when none can be in progress).</summary>
    public static void Clean(string directory)
    {
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*.part"))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>A timestamp cut to milliseconds, as file systems and JSON keep it alike.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
}
