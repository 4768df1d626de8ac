using System.Formats.Tar;
using Microsoft.Extensions.DependencyInjection;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Workspaces;
using static Runable.Orchestrator.Tests.Workspaces.TestArchives;

namespace Runable.Orchestrator.Tests.Workspaces;

public sealed class WorkspaceSeedingTests(WorkspaceFixture fixture) : IClassFixture<WorkspaceFixture>
{
    private const string Tenant = "default";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private WorkspaceSeeder Seeder => fixture.Services.GetRequiredService<WorkspaceSeeder>();

    private UploadStore Uploads => fixture.Services.GetRequiredService<UploadStore>();

    private GitCloner Git => fixture.Services.GetRequiredService<GitCloner>();

    public static TheoryData<string> RefusedUrls =>
    [
        "ssh://git@github.com/org/repo.git", "git@github.com:org/repo.git", "git://github.com/org/repo.git", "-uhack",
        "--upload-pack=touch /tmp/pwned", "ext::sh -c touch% /tmp/pwned", "http://github.com/org/repo.git", "", "file",
    ];

    [Fact]
    public async Task Seed_FromAnUpload_FillsTheWorkspaceAndCommitsItAsTheBaseline()
    {
        var upload = await Uploads.SaveAsync(Tenant, new MemoryStream(TarGz(File("README.md", "# hi\n"), Directory("src/"),
            File("src/main.py", "print('hi')\n"), File("run.sh", "#!/bin/sh\necho run\n", (UnixFileMode)0b111_101_101),
            Link(TarEntryType.SymbolicLink, "src/readme", "../README.md"))), Ct);
        await using var sandbox = await fixture.SandboxAsync(Ct);

        var baseline = await Seeder.SeedAsync(sandbox.Box, Tenant, new WorkspaceSource { UploadId = upload.Id }, Ct);

        Assert.Equal("print('hi')\n", System.Text.Encoding.UTF8.GetString(await sandbox.Box.ReadFileAsync("src/main.py", Ct)));
        Assert.Equal(baseline + "\n", await sandbox.RunAsync("git rev-parse HEAD", Ct));
        Assert.Equal(baseline + "\n", await sandbox.RunAsync("git rev-parse refs/runable/baseline", Ct));
        Assert.Equal("", await sandbox.RunAsync("git status --porcelain", Ct));
        Assert.Equal("Runable <runable@localhost>\n", await sandbox.RunAsync("git log -1 --format='%an <%ae>'", Ct));
        Assert.Equal("README.md\nrun.sh\nsrc/main.py\nsrc/readme\n", await sandbox.RunAsync("git ls-files", Ct));
        await sandbox.RunAsync("test -x run.sh && test -L src/readme", Ct);

        // Another tenant's upload id is not found.
        var refused = await Assert.ThrowsAsync<OrchestratorException>(() =>
            Seeder.SeedAsync(sandbox.Box, "team-other", new WorkspaceSource { UploadId = upload.Id }, Ct));
        Assert.Equal("upload_not_found", refused.Code);
    }

    [Fact]
    public async Task Seed_FromAGitRepository_TheBaselineIsItsHead()
    {
        var origin = System.IO.Directory.CreateTempSubdirectory("runable-origin-").FullName;
        try
        {
            Git(origin, "init", "-q");
            await System.IO.File.WriteAllTextAsync(Path.Combine(origin, "README.md"), "# origin\n", Ct);
            await System.IO.File.WriteAllTextAsync(Path.Combine(origin, "run.sh"), "#!/bin/sh\n", Ct);
            System.IO.File.SetUnixFileMode(Path.Combine(origin, "run.sh"), (UnixFileMode)0b111_101_101);
            System.IO.File.CreateSymbolicLink(Path.Combine(origin, "link"), "README.md");
            Git(origin, "add", "-A");
            Git(origin, "commit", "-q", "-m", "first");
            Git(origin, "checkout", "-q", "-b", "feature");
            await System.IO.File.WriteAllTextAsync(Path.Combine(origin, "feature.txt"), "feature\n", Ct);
            Git(origin, "add", "-A");
            Git(origin, "commit", "-q", "-m", "feature");
            var featureHead = Git(origin, "rev-parse", "HEAD").Trim();
            Git(origin, "checkout", "-q", "main");
            var mainHead = Git(origin, "rev-parse", "HEAD").Trim();
            var url = new Uri(origin).AbsoluteUri;

            await using (var sandbox = await fixture.SandboxAsync(Ct))
            {
                var baseline = await Seeder.SeedAsync(sandbox.Box, Tenant, new WorkspaceSource { GitUrl = url }, Ct);
                Assert.Equal(mainHead, baseline);
                Assert.Equal("# origin\n", System.Text.Encoding.UTF8.GetString(await sandbox.Box.ReadFileAsync("README.md", Ct)));
                Assert.Equal("", await sandbox.RunAsync("git status --porcelain", Ct));
                Assert.Equal("main\n", await sandbox.RunAsync("git rev-parse --abbrev-ref HEAD", Ct));
                await sandbox.RunAsync("test -x run.sh && test -L link && test ! -e feature.txt", Ct);
            }

            await using (var sandbox = await fixture.SandboxAsync(Ct))
            {
                Assert.Equal(featureHead, await Seeder.SeedAsync(sandbox.Box, Tenant, new WorkspaceSource { GitUrl = url, GitRef = "feature" }, Ct));
                Assert.Equal("feature\n", System.Text.Encoding.UTF8.GetString(await sandbox.Box.ReadFileAsync("feature.txt", Ct)));
            }

            var missingRef = await Assert.ThrowsAsync<OrchestratorException>(() => Git.CloneAsync(url, "no-such-branch", Ct));
            Assert.Equal("git_ref_not_found", missingRef.Code);
            Assert.Contains("no-such-branch", missingRef.Message, StringComparison.Ordinal);

            var plain = System.IO.Directory.CreateTempSubdirectory("runable-plain-").FullName;
            var notARepository = await Assert.ThrowsAsync<OrchestratorException>(() => Git.CloneAsync(new Uri(plain).AbsoluteUri, null, Ct));
            System.IO.Directory.Delete(plain);
            Assert.Equal("git_not_a_repository", notARepository.Code);
        }
        finally
        {
            System.IO.Directory.Delete(origin, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(RefusedUrls))]
    public async Task Seed_FromAGitUrlThatIsNotHttps_IsRefusedBeforeGitRuns(string url)
    {
        var error = await Assert.ThrowsAsync<OrchestratorException>(() => Git.CloneAsync(url, null, Ct));
        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_git_url", error.Code);
        Assert.False(System.IO.File.Exists("/tmp/pwned"));
    }

    [Fact]
    public async Task Seed_FromAPrivateHostOrWithAnOptionAsRef_IsRefused()
    {
        var loopback = await Assert.ThrowsAsync<OrchestratorException>(() => Git.CloneAsync("https://127.0.0.1/org/repo.git", null, Ct));
        Assert.Equal("git_host_not_allowed", loopback.Code);
        var metadata = await Assert.ThrowsAsync<OrchestratorException>(() => Git.CloneAsync("https://169.254.169.254/repo.git", null, Ct));
        Assert.Equal("git_host_not_allowed", metadata.Code);
        var option = await Assert.ThrowsAsync<OrchestratorException>(() => Git.CloneAsync("https://github.com/org/repo.git", "--upload-pack=touch", Ct));
        Assert.Equal("invalid_git_ref", option.Code);
    }

    [Fact]
    public async Task Seed_WithNothing_CommitsAnEmptyBaseline()
    {
        await using var sandbox = await fixture.SandboxAsync(Ct);
        var baseline = await Seeder.SeedAsync(sandbox.Box, Tenant, WorkspaceSource.Empty, Ct);
        Assert.Matches("^[0-9a-f]{40}$", baseline);
        Assert.Equal(baseline + "\n", await sandbox.RunAsync("git rev-parse HEAD", Ct));
        Assert.Equal("", await sandbox.RunAsync("git ls-tree -r HEAD", Ct));
        Assert.Equal("1\n", await sandbox.RunAsync("git rev-list --count HEAD", Ct));
    }

    [Fact]
    public async Task Seed_ARepositoryWithUncommittedWork_BaselineHoldsItOnTopOfHeadAndLeavesTheIndexAlone()
    {
        var repository = System.IO.Directory.CreateTempSubdirectory("runable-dirty-").FullName;
        try
        {
            Git(repository, "init", "-q");
            await System.IO.File.WriteAllTextAsync(Path.Combine(repository, "a.txt"), "one\n", Ct);
            Git(repository, "add", "-A");
            Git(repository, "commit", "-q", "-m", "first");
            var head = Git(repository, "rev-parse", "HEAD").Trim();
            await System.IO.File.WriteAllTextAsync(Path.Combine(repository, "a.txt"), "two\n", Ct);
            await System.IO.File.WriteAllTextAsync(Path.Combine(repository, "untracked.txt"), "new\n", Ct);
            var upload = await Uploads.SaveAsync(Tenant, new MemoryStream(TarGzDirectory(repository)), Ct);
            await using var sandbox = await fixture.SandboxAsync(Ct);

            var baseline = await Seeder.SeedAsync(sandbox.Box, Tenant, new WorkspaceSource { UploadId = upload.Id }, Ct);

            Assert.NotEqual(head, baseline);
            Assert.Equal(head + "\n", await sandbox.RunAsync($"git rev-parse {baseline}^", Ct));
            Assert.Equal(head + "\n", await sandbox.RunAsync("git rev-parse HEAD", Ct));
            Assert.Equal(" M a.txt\n?? untracked.txt\n", await sandbox.RunAsync("git status --porcelain", Ct));
            Assert.Equal("two\n", await sandbox.RunAsync($"git show {baseline}:a.txt", Ct));

            // Nothing changed since: the diff is empty.
            var jobId = "job_dirty" + Guid.NewGuid().ToString("N")[..8];
            var diff = await fixture.Services.GetRequiredService<WorkspaceArtifacts>().SaveDiffAsync(sandbox.Box, jobId, baseline, Ct);
            Assert.Equal(0, diff.SizeBytes);
        }
        finally
        {
            System.IO.Directory.Delete(repository, recursive: true);
        }
    }
}
