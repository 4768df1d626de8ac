using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Runable.Box.Protocol;

namespace Runable.Box.Server.Tests.Files;

/// <summary>
/// Tries every way out of the workspace that SECURITY.md item 8 lists, on every file route, and checks both the
/// answer (403 path_outside_workspace, or 400 invalid_path for malformed paths) and that nothing outside was
/// read, created or changed.
/// </summary>
public sealed partial class PathEscapeTests : IAsyncLifetime
{
    private const string Secret = "top secret outside the workspace";
    private readonly BoxServerFixture _box = new();
    private readonly string _outside = Directory.CreateTempSubdirectory("runable-outside-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await _box.InitializeAsync();
        await File.WriteAllTextAsync(Path.Combine(_outside, "secret.txt"), Secret, Ct);
        File.CreateSymbolicLink(Path.Combine(_box.Workspace, "outdir"), _outside);
        File.CreateSymbolicLink(Path.Combine(_box.Workspace, "outfile"), Path.Combine(_outside, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(_box.Workspace, "relout"), "../" + Path.GetFileName(_outside));
        Directory.CreateDirectory(Path.Combine(_box.Workspace, "inside"));
        await File.WriteAllTextAsync(Path.Combine(_box.Workspace, "inside/ok.txt"), "fine", Ct);
    }

    public static TheoryData<string> EscapingPaths() => new()
    {
        "../secret.txt",
        "inside/../../secret.txt",
        "/etc/passwd",
        "/etc/shadow",
        "outdir/secret.txt",
        "outfile",
        "relout/secret.txt",
        "outdir",
        "outdir/new.txt",
        "relout/new-dir/new.txt",
    };

    [Theory]
    [MemberData(nameof(EscapingPaths))]
    public async Task EveryRoute_RefusesAPathThatLeavesTheWorkspace(string path)
    {
        var answers = await TryEveryRouteAsync(path);
        foreach (var (route, status, code) in answers)
        {
            Assert.True(status == HttpStatusCode.Forbidden && code == BoxErrorCodes.PathOutsideWorkspace,
                $"{route} with '{path}' answered {(int)status} {code}");
        }

        AssertOutsideUntouched();
    }

    [Theory]
    [InlineData("ok.txt\0../../secret.txt")]
    [InlineData("inside/\0")]
    public async Task EveryRoute_RefusesNulBytesWith400(string path)
    {
        foreach (var (route, status, code) in await TryEveryRouteAsync(path))
        {
            Assert.True(status == HttpStatusCode.BadRequest && code == BoxErrorCodes.InvalidPath, $"{route} answered {(int)status} {code}");
        }

        AssertOutsideUntouched();
    }

    [Fact]
    public async Task EveryRoute_RefusesOverlongPathsWith400()
    {
        foreach (var path in new[] { string.Join('/', Enumerable.Repeat("abcdefghij", 500)), new string('n', 300) })
        {
            foreach (var (route, status, code) in await TryEveryRouteAsync(path))
            {
                Assert.True(status == HttpStatusCode.BadRequest && code == BoxErrorCodes.InvalidPath, $"{route} answered {(int)status} {code}");
            }
        }
    }

    [Theory]
    [InlineData("．．/．．/secret.txt")]
    [InlineData("\u202Etxt.terces")]
    [InlineData("e\u0301\u0301\u0301.txt")]
    [InlineData("..\u2215..\u2215secret.txt")]
    [InlineData("…/secret.txt")]
    public async Task OddUnicodeNames_AreOrdinaryNamesInsideTheWorkspace(string name)
    {
        await _box.Client.WriteFileAsync(name, Encoding.UTF8.GetBytes("odd"), Ct);
        Assert.Equal("odd", Encoding.UTF8.GetString(await _box.Client.ReadFileAsync(name, Ct)));
        Assert.True(File.Exists(Path.Combine(_box.Workspace, name)));
        await _box.Client.DeleteAsync(name, cancellationToken: Ct);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task SymlinkSwappedInDuringRequests_NeverLeadsOutside()
    {
        // A background thread keeps swapping 'race' between a real directory and a symlink to the outside
        // directory while requests read and write race/secret.txt. The kernel resolves each request beneath the
        // workspace at use, so no request may ever see the secret or touch the outside directory.
        var race = Path.Combine(_box.Workspace, "race");
        Directory.CreateDirectory(race);
        await File.WriteAllTextAsync(Path.Combine(race, "secret.txt"), "inside copy", Ct);
        var link = Path.Combine(_box.Workspace, "race-link");
        File.CreateSymbolicLink(link, _outside);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var swaps = 0;
        var swapper = Task.Run(() =>
        {
            // 'race' always exists: it is atomically exchanged between the real directory and the symlink.
            while (!stop.IsCancellationRequested)
            {
                Exchange(race, link);
                swaps++;
            }
        }, Ct);

        var requests = 0;
        while (!stop.IsCancellationRequested)
        {
            requests++;
            try
            {
                var bytes = await _box.Client.ReadFileAsync("race/secret.txt", Ct);
                Assert.NotEqual(Secret, Encoding.UTF8.GetString(bytes));
            }
            catch (BoxException)
            {
            }

            try
            {
                await _box.Client.WriteFileAsync("race/written.txt", "x"u8.ToArray(), Ct);
            }
            catch (BoxException)
            {
            }

            try
            {
                var text = await _box.Client.ReadTextAsync("race/secret.txt", cancellationToken: Ct);
                Assert.NotEqual(Secret, text.Content);
            }
            catch (BoxException)
            {
            }
        }

        await swapper;
        Assert.True(swaps > 10 && requests > 10, $"the race ran {swaps} swaps and {requests} requests");
        AssertOutsideUntouched();
    }

    [Theory]
    [InlineData("../evil.txt", TarEntryType.RegularFile, null)]
    [InlineData("a/../../evil.txt", TarEntryType.RegularFile, null)]
    [InlineData("/tmp/evil.txt", TarEntryType.RegularFile, null)]
    [InlineData("link", TarEntryType.SymbolicLink, "/etc")]
    [InlineData("link", TarEntryType.SymbolicLink, "../..")]
    [InlineData("hard", TarEntryType.HardLink, "/etc/passwd")]
    [InlineData("fifo", TarEntryType.Fifo, null)]
    public async Task ArchiveUpload_WithAnEntryLeadingOutside_IsRefusedWholeAndWritesNothing(string name, TarEntryType type, string? linkTarget)
    {
        var archive = new MemoryStream();
        await using (var gzip = new GZipStream(archive, CompressionLevel.Fastest, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "harmless.txt") { DataStream = new MemoryStream("ok"u8.ToArray()) }, Ct);
            var entry = new PaxTarEntry(type, name);
            if (linkTarget is not null)
            {
                entry.LinkName = linkTarget;
            }
            else if (type == TarEntryType.RegularFile)
            {
                entry.DataStream = new MemoryStream("evil"u8.ToArray());
            }

            await tar.WriteEntryAsync(entry, Ct);
            if (type == TarEntryType.SymbolicLink)
            {
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "link/passwd") { DataStream = new MemoryStream("evil"u8.ToArray()) }, Ct);
            }
        }

        archive.Position = 0;
        var error = await Assert.ThrowsAsync<BoxException>(() => _box.Client.UploadArchiveAsync("unpack", archive, Ct));
        Assert.Equal(BoxErrorCodes.ArchiveEntryOutsideWorkspace, error.Code);
        Assert.False(Directory.Exists(Path.Combine(_box.Workspace, "unpack")), "nothing may be written when an entry is refused");
        Assert.False(File.Exists("/tmp/evil.txt"));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_box.Workspace)!, "evil.txt")));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task ArchiveUpload_ThroughASymlinkedDirectory_IsRefused()
    {
        var archive = new MemoryStream();
        await using (var gzip = new GZipStream(archive, CompressionLevel.Fastest, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "planted.txt") { DataStream = new MemoryStream("evil"u8.ToArray()) }, Ct);
        }

        archive.Position = 0;
        var error = await Assert.ThrowsAsync<BoxException>(() => _box.Client.UploadArchiveAsync("outdir", archive, Ct));
        Assert.Equal(BoxErrorCodes.PathOutsideWorkspace, error.Code);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task ArchiveUpload_WithAChainOfLinksThatEachLookInside_IsRefusedAndWritesNothing()
    {
        // 'd/x -> ..' stays inside, and 'e -> d/x/../..' looks inside when read as text, but through d/x it climbs
        // two levels above 'chain': out of the workspace.
        using var archive = await TarGzAsync(
            new PaxTarEntry(TarEntryType.RegularFile, "first.txt") { DataStream = new MemoryStream("ok"u8.ToArray()) },
            new PaxTarEntry(TarEntryType.Directory, "d/"),
            new PaxTarEntry(TarEntryType.SymbolicLink, "d/x") { LinkName = ".." },
            new PaxTarEntry(TarEntryType.SymbolicLink, "e") { LinkName = "d/x/../.." },
            new PaxTarEntry(TarEntryType.RegularFile, "e/evil.txt") { DataStream = new MemoryStream("evil"u8.ToArray()) });
        var error = await Assert.ThrowsAsync<BoxException>(() => _box.Client.UploadArchiveAsync("chain", archive, Ct));
        Assert.Equal(BoxErrorCodes.ArchiveEntryOutsideWorkspace, error.Code);
        Assert.Contains("'e'", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_box.Workspace, "chain")), "nothing may be written when an entry is refused");
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_box.Workspace)!, "evil.txt")));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task ArchiveUpload_ThroughALinkAlreadyInTheTarget_IsRefusedBeforeWritingAnything()
    {
        Directory.CreateDirectory(Path.Combine(_box.Workspace, "planted"));
        File.CreateSymbolicLink(Path.Combine(_box.Workspace, "planted/out"), _outside);
        using var archive = await TarGzAsync(
            new PaxTarEntry(TarEntryType.RegularFile, "first.txt") { DataStream = new MemoryStream("ok"u8.ToArray()) },
            new PaxTarEntry(TarEntryType.RegularFile, "out/planted.txt") { DataStream = new MemoryStream("evil"u8.ToArray()) });
        var error = await Assert.ThrowsAsync<BoxException>(() => _box.Client.UploadArchiveAsync("planted", archive, Ct));
        Assert.Equal(BoxErrorCodes.ArchiveEntryOutsideWorkspace, error.Code);
        Assert.Contains("out/planted.txt", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_box.Workspace, "planted/first.txt")), "nothing may be written when an entry is refused");
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task ArchiveUpload_WithRelativeLinksThatStayInside_IsAccepted()
    {
        using var archive = await TarGzAsync(
            new PaxTarEntry(TarEntryType.Directory, "d/"),
            new PaxTarEntry(TarEntryType.SymbolicLink, "d/up") { LinkName = ".." },
            new PaxTarEntry(TarEntryType.SymbolicLink, "top") { LinkName = "d/up/.." },
            new PaxTarEntry(TarEntryType.RegularFile, "d/up/via-link.txt") { DataStream = new MemoryStream("ok"u8.ToArray()) });
        var result = await _box.Client.UploadArchiveAsync("kept", archive, Ct);
        Assert.Equal(4, result.Entries);
        Assert.Equal("ok", await File.ReadAllTextAsync(Path.Combine(_box.Workspace, "kept/via-link.txt"), Ct));
        Assert.Equal("d/up/..", new FileInfo(Path.Combine(_box.Workspace, "kept/top")).LinkTarget);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task AbsoluteSymlink_EvenToAPlaceInside_IsRefusedButCanBeStatted()
    {
        // A known limit: the kernel's RESOLVE_BENEATH refuses every absolute symlink, wherever it points.
        File.CreateSymbolicLink(Path.Combine(_box.Workspace, "abs-inside"), Path.Combine(_box.Workspace, "inside/ok.txt"));
        var error = await Assert.ThrowsAsync<BoxException>(() => _box.Client.ReadFileAsync("abs-inside", Ct));
        Assert.Equal(BoxErrorCodes.PathOutsideWorkspace, error.Code);
        Assert.Contains("absolute symlinks", error.Message, StringComparison.Ordinal);
        var stat = await _box.Client.StatAsync("abs-inside", Ct);
        Assert.Equal(Path.Combine(_box.Workspace, "inside/ok.txt"), stat.Target);
        Assert.Equal("fine", Encoding.UTF8.GetString(await _box.Client.ReadFileAsync("inside/ok.txt", Ct)));
    }

    [Fact]
    public async Task Delete_OfASymlinkToOutside_RemovesOnlyTheLink()
    {
        File.CreateSymbolicLink(Path.Combine(_box.Workspace, "doomed-link"), _outside);
        Directory.CreateDirectory(Path.Combine(_box.Workspace, "doomed-dir"));
        File.CreateSymbolicLink(Path.Combine(_box.Workspace, "doomed-dir/out"), _outside);
        await _box.Client.DeleteAsync("doomed-link", cancellationToken: Ct);
        await _box.Client.DeleteAsync("doomed-dir", recursive: true, cancellationToken: Ct);
        Assert.False(Directory.Exists(Path.Combine(_box.Workspace, "doomed-dir")));
        AssertOutsideUntouched();
    }

    public async ValueTask DisposeAsync()
    {
        await _box.DisposeAsync();
        Directory.Delete(_outside, recursive: true);
    }

    private static async Task<MemoryStream> TarGzAsync(params PaxTarEntry[] entries)
    {
        var archive = new MemoryStream();
        await using (var gzip = new GZipStream(archive, CompressionLevel.Fastest, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                await tar.WriteEntryAsync(entry, Ct);
            }
        }

        archive.Position = 0;
        return archive;
    }

    private void AssertOutsideUntouched()
    {
        Assert.Equal(Secret, File.ReadAllText(Path.Combine(_outside, "secret.txt")));
        Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(_outside).Select(Path.GetFileName).ToArray());
    }

    private static void Exchange(string first, string second)
    {
        if (Renameat2(-100, first, -100, second, 2 /* RENAME_EXCHANGE */) != 0)
        {
            throw new IOException($"renameat2 failed: {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Renameat2(int oldDir, string oldPath, int newDir, string newPath, uint flags);

    /// <summary>Sends <paramref name="path"/> to every file route and returns (route, status, code) for each.</summary>
    private async Task<List<(string Route, HttpStatusCode Status, string? Code)>> TryEveryRouteAsync(string path)
    {
        using var http = _box.Http();
        var q = Uri.EscapeDataString(path);
        var requests = new List<(string, Func<Task<HttpResponseMessage>>)>
        {
            ("GET /files", () => http.GetAsync($"files?path={q}", Ct)),
            ("PUT /files", () => http.PutAsync($"files?path={q}", new ByteArrayContent("pwned"u8.ToArray()), Ct)),
            ("GET /files/text", () => http.GetAsync($"files/text?path={q}", Ct)),
            ("POST /files/edit", () => http.PostAsJsonAsync("files/edit", new { path, old_str = "top", new_str = "pwned" }, Ct)),
            ("GET /files/list", () => http.GetAsync($"files/list?path={q}", Ct)),
            ("POST /files/search", () => http.PostAsJsonAsync("files/search", new { pattern = "secret", path }, Ct)),
            ("POST /files/move src", () => http.PostAsJsonAsync("files/move", new { src = path, dst = "inside/moved" }, Ct)),
            ("POST /files/move dst", () => http.PostAsJsonAsync("files/move", new { src = "inside/ok.txt", dst = path, overwrite = true }, Ct)),
            ("DELETE /files", () => http.DeleteAsync($"files?path={q}&recursive=true", Ct)),
            ("POST /files/mkdir", () => http.PostAsJsonAsync("files/mkdir", new { path }, Ct)),
            ("GET /files/stat", () => http.GetAsync($"files/stat?path={q}", Ct)),
            ("GET /files/archive", () => http.GetAsync($"files/archive?path={q}", Ct)),
            ("POST /fs/write", () => http.PostAsJsonAsync("fs/write", new { path, content = "pwned" }, Ct)),
            ("GET /fs/read", () => http.GetAsync($"fs/read?path={q}", Ct)),
        };

        // Some escapes are only escapes for some routes: stat, delete and move act on a symlink itself, which is inside.
        var actsOnLink = path is "outdir" or "outfile";
        var answers = new List<(string, HttpStatusCode, string?)>();
        foreach (var (route, send) in requests)
        {
            if (actsOnLink && route is "GET /files/stat" or "DELETE /files" or "POST /files/move src" or "POST /files/move dst")
            {
                continue;
            }

            using var response = await send();
            string? code = null;
            if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            {
                code = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("code").GetString();
            }

            answers.Add((route, response.StatusCode, code));
        }

        return answers;
    }
}
