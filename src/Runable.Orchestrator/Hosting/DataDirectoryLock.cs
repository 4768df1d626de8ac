namespace Runable.Orchestrator.Hosting;

/// <summary>
/// One orchestrator per data directory: an exclusive lock on its <c>orchestrator.lock</c> file, held for the
/// orchestrator's life and released by the kernel when the process ends, however it ends. It is what lets a starting
/// orchestrator take back every job lease at once (the process that held them is gone), and it keeps a second
/// <c>runable serve</c> from sharing the store and the sandboxes' state by mistake.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file) => _file = file;

    /// <summary>The lock file's name in the data directory.</summary>
    public const string FileName = "orchestrator.lock";

    /// <summary>Takes the lock of <paramref name="dataDirectory"/> (created if missing); throws when another process holds it.</summary>
    public static DataDirectoryLock Acquire(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        try
        {
            // FileShare.None is an exclusive flock(2) on Linux.
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            file.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n");
            file.Write(pid);
            file.Flush();
            return new DataDirectoryLock(file);
        }
        catch (IOException e)
        {
            var holder = ReadHolder(path);
            throw new InvalidOperationException(
                $"Another orchestrator{(holder is null ? "" : $" (process {holder})")} is using the data directory {dataDirectory}. " +
                "Stop it first, or give this one its own directory (runable serve --data DIR).", e);
        }
    }

    public void Dispose() => _file.Dispose();

    private static string? ReadHolder(string path)
    {
        try
        {
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            return reader.ReadLine()?.Trim() is { Length: > 0 } pid ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
