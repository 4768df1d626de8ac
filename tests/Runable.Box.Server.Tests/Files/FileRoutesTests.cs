using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Runable.Box.Protocol;
using Runable.Box.Protocol.Files;

namespace Runable.Box.Server.Tests.Files;

public sealed class FileRoutesTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteThenRead_RoundTripsBytesAndCreatesParents()
    {
        var bytes = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        var written = await box.Client.WriteFileAsync("rt/a/b/data.bin", bytes, Ct);
        Assert.Equal("rt/a/b/data.bin", written.Path);
        Assert.Equal(bytes.Length, written.Size);
        Assert.Equal(bytes, await box.Client.ReadFileAsync("rt/a/b/data.bin", Ct));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(box.Workspace, "rt/a/b/data.bin"), Ct));
        Assert.Equal(bytes, await box.Client.ReadFileAsync(box.Workspace + "/rt/a/b/data.bin", Ct));
    }

    [Fact]
    public async Task Write_OverExistingExecutable_KeepsItsModeAndLeavesNoTemporaryFile()
    {
        var path = Path.Combine(box.Workspace, "tool.sh");
        await File.WriteAllTextAsync(path, "old", Ct);
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
        await box.Client.WriteFileAsync("tool.sh", Encoding.UTF8.GetBytes("#!/bin/sh\necho new\n"), Ct);
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(path));
        Assert.DoesNotContain(Directory.GetFiles(box.Workspace), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Write_ThroughSymlinkInsideWorkspace_WritesTheTarget()
    {
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "AGENTS.md"), "v1", Ct);
        File.CreateSymbolicLink(Path.Combine(box.Workspace, "CLAUDE.md"), "AGENTS.md");
        await box.Client.WriteFileAsync("CLAUDE.md", Encoding.UTF8.GetBytes("v2"), Ct);
        Assert.Equal("v2", await File.ReadAllTextAsync(Path.Combine(box.Workspace, "AGENTS.md"), Ct));
        Assert.NotNull(new FileInfo(Path.Combine(box.Workspace, "CLAUDE.md")).LinkTarget);
    }

    [Fact]
    public async Task ReadText_ByLineRange_ReturnsThoseLines()
    {
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "lines.txt"), string.Concat(Enumerable.Range(1, 10).Select(i => $"line {i}\n")), Ct);
        var text = await box.Client.ReadTextAsync("lines.txt", 3, 5, Ct);
        Assert.Equal("line 3\nline 4\nline 5\n", text.Content);
        Assert.Equal(3, text.StartLine);
        Assert.Equal(5, text.EndLine);
        Assert.Equal(10, text.TotalLines);
        var tail = await box.Client.ReadTextAsync("lines.txt", 9, 99, Ct);
        Assert.Equal("line 9\nline 10\n", tail.Content);
        Assert.Equal(10, tail.EndLine);
    }

    [Fact]
    public async Task ReadText_OfBinaryFile_Returns400NotText()
    {
        await File.WriteAllBytesAsync(Path.Combine(box.Workspace, "blob.bin"), [1, 2, 0, 3], Ct);
        var error = await Assert.ThrowsAsync<BoxException>(() => box.Client.ReadTextAsync("blob.bin", cancellationToken: Ct));
        Assert.Equal(BoxErrorCodes.NotText, error.Code);
    }

    [Fact]
    public async Task Edit_UniqueMatch_ReplacesAndReturnsUnifiedDiff()
    {
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "edit.py"), "a = 1\nb = 2\nc = 3\n", Ct);
        var result = await box.Client.EditFileAsync("edit.py", "b = 2", "b = 20", Ct);
        Assert.Equal("a = 1\nb = 20\nc = 3\n", await File.ReadAllTextAsync(Path.Combine(box.Workspace, "edit.py"), Ct));
        Assert.Equal("--- a/edit.py\n+++ b/edit.py\n@@ -1,3 +1,3 @@\n a = 1\n-b = 2\n+b = 20\n c = 3\n", result.Diff);
    }

    [Fact]
    public async Task Edit_NoMatchOrSeveral_Returns409WithTheCount()
    {
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "dup.txt"), "x\nx\n", Ct);
        var none = await Assert.ThrowsAsync<BoxException>(() => box.Client.EditFileAsync("dup.txt", "y", "z", Ct));
        Assert.Equal(BoxErrorCodes.EditNoMatch, none.Code);
        Assert.Equal(409, none.Details["status"]);
        var several = await Assert.ThrowsAsync<BoxException>(() => box.Client.EditFileAsync("dup.txt", "x", "z", Ct));
        Assert.Equal(BoxErrorCodes.EditAmbiguous, several.Code);
        Assert.Equal(2, ((JsonElement)several.Details["count"]!).GetInt32());
        Assert.Equal("x\nx\n", await File.ReadAllTextAsync(Path.Combine(box.Workspace, "dup.txt"), Ct));
    }

    [Fact]
    public async Task Edit_OfAFileThatIsNotUtf8_Returns400AndLeavesEveryByte()
    {
        byte[] latin1 = [.. "caf"u8, 0xE9, .. " = 1\n"u8];
        var path = Path.Combine(box.Workspace, "latin1.txt");
        await File.WriteAllBytesAsync(path, latin1, Ct);
        var error = await Assert.ThrowsAsync<BoxException>(() => box.Client.EditFileAsync("latin1.txt", "1", "2", Ct));
        Assert.Equal(BoxErrorCodes.NotText, error.Code);
        Assert.Equal(latin1, await File.ReadAllBytesAsync(path, Ct));
    }

    [Fact]
    public async Task Edit_KeepsCrlfAndByteOrderMark()
    {
        var path = Path.Combine(box.Workspace, "crlf.txt");
        await File.WriteAllBytesAsync(path, [0xEF, 0xBB, 0xBF, .. "one\r\ntwo\r\n"u8], Ct);
        await box.Client.EditFileAsync("crlf.txt", "two", "2", Ct);
        Assert.Equal([0xEF, 0xBB, 0xBF, .. "one\r\n2\r\n"u8], await File.ReadAllBytesAsync(path, Ct));
    }

    [Fact]
    public async Task ReadText_LineLongerThanTheCap_IsCutAndMarkedTruncated()
    {
        var longLine = new string('x', 1024 * 1024 + 10) + "\n";
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "long.txt"), "short\n" + longLine + "after\n", Ct);

        var first = await box.Client.ReadTextAsync("long.txt", cancellationToken: Ct);
        Assert.True(first.Truncated);
        Assert.Equal("short\n", first.Content);
        Assert.Equal(1, first.EndLine);
        Assert.Equal(3, first.TotalLines);

        var cut = await box.Client.ReadTextAsync("long.txt", first.EndLine + 1, cancellationToken: Ct);
        Assert.True(cut.Truncated);
        Assert.Equal(2, cut.EndLine);
        Assert.Equal(1024 * 1024, cut.Content.Length);

        var rest = await box.Client.ReadTextAsync("long.txt", cut.EndLine + 1, cancellationToken: Ct);
        Assert.False(rest.Truncated);
        Assert.Equal("after\n", rest.Content);
    }

    [Fact]
    public async Task List_WithDepth_DescribesEntriesAndDoesNotFollowSymlinks()
    {
        Directory.CreateDirectory(Path.Combine(box.Workspace, "tree/sub/deeper"));
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "tree/top.txt"), "12345", Ct);
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "tree/sub/inner.txt"), "x", Ct);
        File.CreateSymbolicLink(Path.Combine(box.Workspace, "tree/loop"), ".");

        var shallow = await box.Client.ListFilesAsync("tree", 1, Ct);
        Assert.Equal(["loop", "sub", "top.txt"], shallow.Entries.Select(e => e.Name).ToArray());
        var top = shallow.Entries.Single(e => e.Name == "top.txt");
        Assert.Equal(FileEntryType.File, top.Type);
        Assert.Equal(5, top.Size);
        Assert.Equal("tree/top.txt", top.Path);
        var link = shallow.Entries.Single(e => e.Name == "loop");
        Assert.Equal(FileEntryType.Symlink, link.Type);
        Assert.Equal(".", link.Target);

        var deep = await box.Client.ListFilesAsync("tree", 3, Ct);
        Assert.Contains(deep.Entries, e => e.Path == "tree/sub/inner.txt");
        Assert.Contains(deep.Entries, e => e.Path == "tree/sub/deeper" && e.Type == FileEntryType.Dir);
        Assert.DoesNotContain(deep.Entries, e => e.Path.StartsWith("tree/loop/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Search_LiteralRegexGlobAndBinary_AreHandled()
    {
        Directory.CreateDirectory(Path.Combine(box.Workspace, "s/src"));
        Directory.CreateDirectory(Path.Combine(box.Workspace, "s/.git"));
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "s/src/a.cs"), "class A {}\n// TODO: fix A\n", Ct);
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "s/src/b.py"), "# TODO: fix b\nx = 1\n", Ct);
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "s/.git/HEAD"), "TODO in git\n", Ct);
        await File.WriteAllBytesAsync(Path.Combine(box.Workspace, "s/bin.dat"), [.. "TODO"u8, 0, 1], Ct);

        var literal = await box.Client.SearchFilesAsync(new FileSearchRequest { Pattern = "TODO", Path = "s" }, Ct);
        Assert.Equal(["s/src/a.cs:2", "s/src/b.py:1"], literal.Matches.Select(m => $"{m.Path}:{m.Line}").Order().ToArray());
        Assert.False(literal.Truncated);

        var globbed = await box.Client.SearchFilesAsync(new FileSearchRequest { Pattern = "TODO", Path = "s", Glob = "**/*.py" }, Ct);
        Assert.Equal("# TODO: fix b", Assert.Single(globbed.Matches).Text);

        var regex = await box.Client.SearchFilesAsync(new FileSearchRequest { Pattern = @"^class \w+", Path = "s", Regex = true }, Ct);
        Assert.Equal("s/src/a.cs", Assert.Single(regex.Matches).Path);

        var capped = await box.Client.SearchFilesAsync(new FileSearchRequest { Pattern = "TODO", Path = "s", MaxResults = 1 }, Ct);
        Assert.Single(capped.Matches);
        Assert.True(capped.Truncated);

        var invalid = await Assert.ThrowsAsync<BoxException>(() => box.Client.SearchFilesAsync(new FileSearchRequest { Pattern = "(", Regex = true }, Ct));
        Assert.Equal(BoxErrorCodes.InvalidArgument, invalid.Code);
    }

    [Fact]
    public async Task MoveMkdirStatDelete_WorkAndRefuseWhatTheyShould()
    {
        await box.Client.MkdirAsync("ops/one/two", Ct);
        Assert.True(Directory.Exists(Path.Combine(box.Workspace, "ops/one/two")));
        Assert.Equal(FileEntryType.Dir, (await box.Client.MkdirAsync("ops/one/two", Ct)).Type);

        await box.Client.WriteFileAsync("ops/f.txt", "hi"u8.ToArray(), Ct);
        await box.Client.WriteFileAsync("ops/g.txt", "there"u8.ToArray(), Ct);
        var moved = await box.Client.MoveAsync("ops/f.txt", "ops/new/dir/f2.txt", cancellationToken: Ct);
        Assert.Equal("ops/new/dir/f2.txt", moved.Path);
        Assert.False(File.Exists(Path.Combine(box.Workspace, "ops/f.txt")));

        var exists = await Assert.ThrowsAsync<BoxException>(() => box.Client.MoveAsync("ops/g.txt", "ops/new/dir/f2.txt", cancellationToken: Ct));
        Assert.Equal(BoxErrorCodes.FileExists, exists.Code);
        await box.Client.MoveAsync("ops/g.txt", "ops/new/dir/f2.txt", overwrite: true, cancellationToken: Ct);
        Assert.Equal("there", await File.ReadAllTextAsync(Path.Combine(box.Workspace, "ops/new/dir/f2.txt"), Ct));

        var stat = await box.Client.StatAsync("ops/new/dir/f2.txt", Ct);
        Assert.Equal(5, stat.Size);
        Assert.Equal(FileEntryType.File, stat.Type);

        var notEmpty = await Assert.ThrowsAsync<BoxException>(() => box.Client.DeleteAsync("ops/new", cancellationToken: Ct));
        Assert.Equal(BoxErrorCodes.DirectoryNotEmpty, notEmpty.Code);
        await box.Client.DeleteAsync("ops", recursive: true, cancellationToken: Ct);
        Assert.False(Directory.Exists(Path.Combine(box.Workspace, "ops")));

        var missing = await Assert.ThrowsAsync<BoxException>(() => box.Client.StatAsync("ops", Ct));
        Assert.Equal(BoxErrorCodes.FileNotFound, missing.Code);
        var root = await Assert.ThrowsAsync<BoxException>(() => box.Client.DeleteAsync("", recursive: true, cancellationToken: Ct));
        Assert.Equal(BoxErrorCodes.PathOutsideWorkspace, root.Code);
    }

    [Fact]
    public async Task Archive_DownloadThenUpload_RoundTripsFilesDirectoriesAndLinks()
    {
        Directory.CreateDirectory(Path.Combine(box.Workspace, "arc/src/empty"));
        await File.WriteAllTextAsync(Path.Combine(box.Workspace, "arc/src/main.c"), "int main(){}\n", Ct);
        File.SetUnixFileMode(Path.Combine(box.Workspace, "arc/src/main.c"), (UnixFileMode)0x1ED);
        File.CreateSymbolicLink(Path.Combine(box.Workspace, "arc/src/link.c"), "main.c");

        var archive = await box.Client.DownloadArchiveAsync("arc", Ct);
        var names = ReadNames(archive);
        Assert.Contains("src/main.c", names);
        Assert.Contains("src/empty/", names);
        Assert.Contains("src/link.c", names);

        var result = await box.Client.UploadArchiveAsync("arc-copy", new MemoryStream(archive), Ct);
        Assert.Equal("arc-copy", result.Path);
        Assert.Equal(names.Count, result.Entries);
        Assert.Equal("int main(){}\n", await File.ReadAllTextAsync(Path.Combine(box.Workspace, "arc-copy/src/main.c"), Ct));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(Path.Combine(box.Workspace, "arc-copy/src/main.c")));
        Assert.Equal("main.c", new FileInfo(Path.Combine(box.Workspace, "arc-copy/src/link.c")).LinkTarget);
        Assert.True(Directory.Exists(Path.Combine(box.Workspace, "arc-copy/src/empty")));
    }

    [Fact]
    public async Task Archive_UploadOfGarbage_Returns400InvalidArchive()
    {
        var error = await Assert.ThrowsAsync<BoxException>(() => box.Client.UploadArchiveAsync("garbage", new MemoryStream("not a tarball"u8.ToArray()), Ct));
        Assert.Equal(BoxErrorCodes.InvalidArchive, error.Code);
    }

    [Fact]
    public async Task SeedRoutes_WriteReadMoveDelete()
    {
        using var http = box.Http();
        var write = await http.PostAsJsonAsync("fs/write", new { path = "seed/hello.txt", content = "héllo" }, Ct);
        Assert.Equal("ok", (await write.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        var read = await http.GetFromJsonAsync<JsonElement>("fs/read?path=seed/hello.txt", Ct);
        Assert.Equal("héllo", read.GetProperty("content").GetString());
        var move = await http.PostAsJsonAsync("fs/move", new { src = "seed/hello.txt", dst = "seed/moved.txt" }, Ct);
        Assert.Equal(HttpStatusCode.OK, move.StatusCode);
        Assert.True(File.Exists(Path.Combine(box.Workspace, "seed/moved.txt")));
        var delete = await http.PostAsJsonAsync("fs/delete", new { path = "seed" }, Ct);
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(box.Workspace, "seed")));
    }

    [Theory]
    [InlineData("files/edit", "{oops")]
    [InlineData("files/edit", """{"path": 1, "old_str": "a", "new_str": "b"}""")]
    [InlineData("files/search", """{"pattern": ["x"]}""")]
    [InlineData("files/move", """{"src": true}""")]
    public async Task FileRoutes_MalformedJson_Return400InvalidJson(string route, string body)
    {
        using var http = box.Http();
        using var response = await http.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("invalid_json", problem.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain")]
    [InlineData(null)]
    public async Task Write_WithAnyContentType_StoresTheRawBody(string? contentType)
    {
        using var http = box.Http();
        var content = new ByteArrayContent("raw=body&x"u8.ToArray());
        if (contentType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        using var response = await http.PutAsync("files?path=raw.txt", content, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("raw=body&x", await File.ReadAllTextAsync(Path.Combine(box.Workspace, "raw.txt"), Ct));
    }

    [Fact]
    public async Task Read_MissingPathParameter_Returns400()
    {
        using var http = box.Http();
        using var response = await http.GetAsync("files", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static List<string> ReadNames(byte[] archive)
    {
        using var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        var names = new List<string>();
        while (tar.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }

        return names;
    }
}
