using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Workspaces;
using static Runable.Orchestrator.Tests.Workspaces.TestArchives;

namespace Runable.Orchestrator.Tests.Workspaces;

public sealed class WorkspaceArtifactTests(WorkspaceFixture fixture) : IClassFixture<WorkspaceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ArtifactStore Store => fixture.Services.GetRequiredService<ArtifactStore>();

    [Fact]
    public async Task Artifacts_AfterEditingAddingDeletingAndAddingBinary_DiffHoldsAllAndAppliesToTheOriginal()
    {
        var original = TarGz(File("edit.txt", "line one\nline two\n"), File("remove.txt", "going away\n"), Directory("keep/"), File("keep/same.txt", "same\n"));
        var upload = await fixture.Services.GetRequiredService<UploadStore>().SaveAsync("default", new MemoryStream(original), Ct);
        var binary = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 % 256)).ToArray();
        var jobId = "job_" + Guid.NewGuid().ToString("N")[..16];
        await using var sandbox = await fixture.SandboxAsync(Ct);
        var baseline = await fixture.Services.GetRequiredService<WorkspaceSeeder>()
            .SeedAsync(sandbox.Box, "default", new WorkspaceSource { UploadId = upload.Id }, Ct);

        await sandbox.Box.EditFileAsync("edit.txt", "line two", "line 2, edited", Ct);
        await sandbox.Box.WriteFileAsync("new.txt", "brand new\n"u8.ToArray(), Ct);
        await sandbox.Box.DeleteAsync("remove.txt", cancellationToken: Ct);
        await sandbox.Box.WriteFileAsync("data/blob.bin", binary, Ct);

        var saved = await fixture.Services.GetRequiredService<WorkspaceArtifacts>().CollectAsync(sandbox.Box, jobId, baseline, Ct);

        Assert.Equal([WorkspaceArtifacts.DiffName, WorkspaceArtifacts.WorkspaceArchiveName], saved.Select(a => a.Name));
        Assert.Equal(saved.OrderBy(a => a.Name, StringComparer.Ordinal), Store.List(jobId));
        foreach (var artifact in saved)
        {
            await using var stream = Store.OpenRead(jobId, artifact.Name);
            Assert.Equal(artifact.SizeBytes, stream.Length);
        }

        string patch;
        await using (var stream = Store.OpenRead(jobId, WorkspaceArtifacts.DiffName))
        {
            patch = await new StreamReader(stream).ReadToEndAsync(Ct);
        }

        Assert.Contains("diff --git a/edit.txt b/edit.txt", patch, StringComparison.Ordinal);
        Assert.Contains("+line 2, edited", patch, StringComparison.Ordinal);
        Assert.Contains("diff --git a/new.txt b/new.txt\nnew file mode", patch, StringComparison.Ordinal);
        Assert.Contains("diff --git a/remove.txt b/remove.txt\ndeleted file mode", patch, StringComparison.Ordinal);
        Assert.Contains("diff --git a/data/blob.bin b/data/blob.bin\nnew file mode", patch, StringComparison.Ordinal);
        Assert.Contains("GIT binary patch", patch, StringComparison.Ordinal);
        Assert.DoesNotContain("keep/same.txt", patch, StringComparison.Ordinal);

        // The patch turns a fresh copy of the original into the result.
        var copy = System.IO.Directory.CreateTempSubdirectory("runable-apply-").FullName;
        try
        {
            using (var gzip = new GZipStream(new MemoryStream(original), CompressionMode.Decompress))
            {
                await TarFile.ExtractToDirectoryAsync(gzip, copy, overwriteFiles: false, Ct);
            }

            var patchFile = Path.Combine(copy, "..", Path.GetFileName(copy) + ".patch");
            await using (var stream = Store.OpenRead(jobId, WorkspaceArtifacts.DiffName))
            await using (var file = System.IO.File.Create(patchFile))
            {
                await stream.CopyToAsync(file, Ct);
            }

            Git(copy, "apply", "--check", patchFile);
            Git(copy, "apply", patchFile);
            System.IO.File.Delete(patchFile);
            Assert.Equal("line one\nline 2, edited\n", await System.IO.File.ReadAllTextAsync(Path.Combine(copy, "edit.txt"), Ct));
            Assert.Equal("brand new\n", await System.IO.File.ReadAllTextAsync(Path.Combine(copy, "new.txt"), Ct));
            Assert.False(System.IO.File.Exists(Path.Combine(copy, "remove.txt")));
            Assert.Equal(binary, await System.IO.File.ReadAllBytesAsync(Path.Combine(copy, "data/blob.bin"), Ct));
            Assert.Equal("same\n", await System.IO.File.ReadAllTextAsync(Path.Combine(copy, "keep/same.txt"), Ct));
        }
        finally
        {
            System.IO.Directory.Delete(copy, recursive: true);
        }

        // The workspace archive holds the result, and none of the diff's temporary files.
        Dictionary<string, byte[]> files;
        await using (var stream = Store.OpenRead(jobId, WorkspaceArtifacts.WorkspaceArchiveName))
        {
            files = Read(stream);
        }

        Assert.Equal("line one\nline 2, edited\n", Encoding.UTF8.GetString(files["edit.txt"]));
        Assert.Equal("brand new\n", Encoding.UTF8.GetString(files["new.txt"]));
        Assert.Equal(binary, files["data/blob.bin"]);
        Assert.False(files.ContainsKey("remove.txt"));
        Assert.Contains(".git/HEAD", files.Keys);
        Assert.DoesNotContain(files.Keys, name => name.Contains("runable-", StringComparison.Ordinal));

        // The workspace's own index was not touched: nothing is staged.
        Assert.Equal("", await sandbox.RunAsync("git diff --cached --name-only", Ct));
        Assert.Equal(" M edit.txt\n D remove.txt\n?? data/\n?? new.txt\n", await sandbox.RunAsync("git status --porcelain", Ct));
    }

    [Fact]
    public async Task ArtifactStore_Save_ReplacesWholeOrNotAtAll()
    {
        var jobId = "job_" + Guid.NewGuid().ToString("N")[..16];
        var first = await Store.SaveAsync(jobId, "trajectory.jsonl", new MemoryStream("{\"a\":1}\n"u8.ToArray()), Ct);
        Assert.Equal(new ArtifactInfo("trajectory.jsonl", 8, first.CreatedAt), Assert.Single(Store.List(jobId)));

        // A reader of the old version keeps reading it whole while a new one is saved.
        await using (var reader = Store.OpenRead(jobId, "trajectory.jsonl"))
        {
            await Store.SaveAsync(jobId, "trajectory.jsonl", new MemoryStream("{\"b\":22}\n"u8.ToArray()), Ct);
            Assert.Equal("{\"a\":1}\n", await new StreamReader(reader).ReadToEndAsync(Ct));
        }

        // A save that fails midway leaves the previous version and no partial file.
        await Assert.ThrowsAsync<IOException>(() => Store.SaveAsync(jobId, "trajectory.jsonl", new FailingStream(), Ct));
        await using (var reader = Store.OpenRead(jobId, "trajectory.jsonl"))
        {
            Assert.Equal("{\"b\":22}\n", await new StreamReader(reader).ReadToEndAsync(Ct));
        }

        Assert.Equal(9, Assert.Single(Store.List(jobId)).SizeBytes);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(fixture.DataDirectory, "artifacts"), "*.part", SearchOption.AllDirectories));

        Assert.Equal("artifact_not_found", Assert.Throws<OrchestratorException>(() => Store.OpenRead(jobId, "diff.patch")).Code);
        Assert.Equal(400, Assert.Throws<OrchestratorException>(() => Store.OpenRead(jobId, "../trajectory.jsonl")).Status);
        Assert.Equal(400, Assert.Throws<OrchestratorException>(() => Store.OpenRead("../" + jobId, "trajectory.jsonl")).Status);
        Assert.Empty(Store.List("job_none"));
        Store.Delete(jobId);
        Assert.Empty(Store.List(jobId));
    }

    /// <summary>Gives some bytes, then fails as a dropped connection would.</summary>
    private sealed class FailingStream : Stream
    {
        private int _reads;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_reads++ > 0)
            {
                throw new IOException("connection reset");
            }

            buffer[offset] = (byte)'x';
            return 1;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
