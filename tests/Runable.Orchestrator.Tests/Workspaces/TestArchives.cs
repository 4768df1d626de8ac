using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Runable.Orchestrator.Tests.Workspaces;

/// <summary>Builds tar.gz archives entry by entry (including hostile ones), reads them back, and runs git on the host.</summary>
internal static class TestArchives
{
    public static byte[] TarGz(params TarEntry[] entries)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                tar.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A directory as tar.gz, hidden files (<c>.git</c>) included, which <see cref="TarFile"/> leaves out.</summary>
    public static byte[] TarGzDirectory(string directory)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            var all = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", all).OrderBy(e => e.FullName, StringComparer.Ordinal))
            {
                tar.WriteEntry(entry.FullName, Path.GetRelativePath(directory, entry.FullName));
            }
        }

        return buffer.ToArray();
    }

    public static PaxTarEntry File(string name, string content, UnixFileMode mode = (UnixFileMode)0b110_100_100) =>
        File(name, Encoding.UTF8.GetBytes(content), mode);

    public static PaxTarEntry File(string name, byte[] content, UnixFileMode mode = (UnixFileMode)0b110_100_100) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content), Mode = mode };

    public static PaxTarEntry Directory(string name) => new(TarEntryType.Directory, name) { Mode = (UnixFileMode)0b111_101_101 };

    public static PaxTarEntry Link(TarEntryType type, string name, string target) => new(type, name) { LinkName = target };

    /// <summary>Every regular file of a tar.gz by name, with its bytes (and the names of symlinks, with their targets as bytes).</summary>
    public static Dictionary<string, byte[]> Read(Stream archive)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var gzip = new GZipStream(archive, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
            if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
            {
                using var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                files[name] = data.ToArray();
            }
            else if (entry.EntryType is TarEntryType.SymbolicLink)
            {
                files[name] = Encoding.UTF8.GetBytes("-> " + entry.LinkName);
            }
        }

        return files;
    }

    /// <summary>Runs git in <paramref name="directory"/> with a fixed identity and no user configuration; returns standard output.</summary>
    public static string Git(string directory, params string[] arguments)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["-c", "user.name=Test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        info.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', arguments)} exited {process.ExitCode}: {error}");
        return output.Result;
    }
}
