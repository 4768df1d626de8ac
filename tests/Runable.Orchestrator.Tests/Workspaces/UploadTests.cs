using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using static Runable.Orchestrator.Tests.Workspaces.TestArchives;

namespace Runable.Orchestrator.Tests.Workspaces;

public sealed class UploadTests(WorkspaceFixture fixture) : IClassFixture<WorkspaceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, byte[]> EscapingArchives => new()
    {
        { "../evil", TarGz(File("ok.txt", "fine"), File("../evil", "x")) },
        { "a/../../evil", TarGz(File("a/../../evil", "x")) },
        { "/etc/evil", TarGz(File("/etc/evil", "x")) },
        { "etc-link", TarGz(Link(TarEntryType.SymbolicLink, "etc-link", "/etc")) },
        { "d/up", TarGz(Directory("d/"), Link(TarEntryType.SymbolicLink, "d/up", "../../outside")) },
        // Each link alone stays inside; followed one through the other, sub/b lands above the root.
        { "sub/b", TarGz(Directory("sub/"), Link(TarEntryType.SymbolicLink, "a", "."), Link(TarEntryType.SymbolicLink, "sub/b", "../a/..")) },
        { "through/x", TarGz(Directory("real/"), Link(TarEntryType.SymbolicLink, "through", "real"), File("through/x", "x")) },
        { "hard", TarGz(File("ok.txt", "fine"), Link(TarEntryType.HardLink, "hard", "ok.txt")) },
        { "tty", TarGz(new PaxTarEntry(TarEntryType.CharacterDevice, "tty") { DeviceMajor = 5, DeviceMinor = 0 }) },
    };

    [Fact]
    public async Task Upload_RawTarGz_IsStoredForItsTenantOnly()
    {
        var archive = TarGz(File("hello.txt", "hello"), Directory("src/"), File("src/main.py", "print(1)\n"),
            Link(TarEntryType.SymbolicLink, "src/link", "../hello.txt"));
        using var admin = fixture.Client(fixture.AdminKey);
        using var response = await admin.PostAsync("v1/uploads", Gzip(archive), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        var id = body.GetProperty("id").GetString()!;
        Assert.Matches("^upl_[0-9a-f]{24}$", id);
        Assert.Equal(archive.Length, body.GetProperty("size_bytes").GetInt64());
        Assert.True(body.GetProperty("created_at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal($"/v1/uploads/{id}", response.Headers.Location?.ToString());

        var shown = JsonDocument.Parse(await admin.GetStringAsync($"v1/uploads/{id}", Ct)).RootElement;
        Assert.Equal(body.GetProperty("created_at").GetDateTimeOffset(), shown.GetProperty("created_at").GetDateTimeOffset());
        Assert.Contains(id, await admin.GetStringAsync("v1/uploads", Ct), StringComparison.Ordinal);
        var stored = System.IO.Directory.GetFiles(Path.Combine(fixture.DataDirectory, "uploads"), id + ".tar.gz", SearchOption.AllDirectories);
        Assert.Equal(archive, await System.IO.File.ReadAllBytesAsync(Assert.Single(stored), Ct));

        using var other = fixture.Client(await fixture.TenantKeyAsync("team-other", Ct));
        using var hidden = await other.GetAsync($"v1/uploads/{id}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal("upload_not_found", await CodeAsync(hidden));
        Assert.Equal("[]", await other.GetStringAsync("v1/uploads", Ct));
        using var notDeleted = await other.DeleteAsync($"v1/uploads/{id}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, notDeleted.StatusCode);

        using var deleted = await admin.DeleteAsync($"v1/uploads/{id}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await admin.GetAsync($"v1/uploads/{id}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Upload_AsMultipartFile_IsStored()
    {
        var archive = TarGz(File("a.txt", "from a form"));
        using var form = new MultipartFormDataContent
        {
            { new StringContent("ignored"), "note" },
            { new ByteArrayContent(archive), "file", "workspace.tar.gz" },
        };
        using var admin = fixture.Client(fixture.AdminKey);
        using var response = await admin.PostAsync("v1/uploads", form, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(archive.Length, JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("size_bytes").GetInt64());
    }

    [Theory]
    [MemberData(nameof(EscapingArchives))]
    public async Task Upload_WithAnEntryLeavingTheRoot_IsRefusedAndNothingIsKept(string entry, byte[] archive)
    {
        using var admin = fixture.Client(fixture.AdminKey);
        var before = StoredFiles();
        using var response = await admin.PostAsync("v1/uploads", Gzip(archive), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("invalid_archive", problem.GetProperty("code").GetString());
        Assert.Contains($"'{entry}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, StoredFiles());
    }

    [Fact]
    public async Task Upload_ThatIsNotATarGz_IsRefused()
    {
        using var admin = fixture.Client(fixture.AdminKey);
        using var plain = await admin.PostAsync("v1/uploads", Gzip("just text"u8.ToArray()), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Contains("not gzip-compressed", await plain.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var gzippedText = new MemoryStream();
        using (var gzip = new GZipStream(gzippedText, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(new string('x', 2000)));
        }

        using var notTar = await admin.PostAsync("v1/uploads", Gzip(gzippedText.ToArray()), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, notTar.StatusCode);
        Assert.Contains("not a valid tar.gz", await notTar.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var empty = await admin.PostAsync("v1/uploads", Gzip([]), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("empty", await empty.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_OverTheLimit_IsRefusedWithOrWithoutALength()
    {
        // Random bytes do not compress: the archive is larger than the limit.
        var archive = TarGz(File("big.bin", Random.Shared.GetItems<byte>(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), (int)WorkspaceFixture.MaxUploadBytes + 1)));
        Assert.True(archive.Length > WorkspaceFixture.MaxUploadBytes);
        using var admin = fixture.Client(fixture.AdminKey);
        var before = StoredFiles();

        using var declared = await admin.PostAsync("v1/uploads", Gzip(archive), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal("upload_too_large", await CodeAsync(declared));

        var chunked = new StreamContent(new UnseekableStream(archive));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        using var streamed = await admin.PostAsync("v1/uploads", chunked, Ct);
        Assert.Null(streamed.RequestMessage?.Content?.Headers.ContentLength);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Equal("upload_too_large", await CodeAsync(streamed));
        Assert.Equal(before, StoredFiles());
    }

    [Fact]
    public async Task Upload_WithoutTheJobsScope_IsForbidden()
    {
        using var admin = fixture.Client(fixture.AdminKey);
        using var created = await admin.PostAsync("v1/keys",
            new StringContent("""{"name":"sb","scopes":["sandboxes"]}""", System.Text.Encoding.UTF8, "application/json"), Ct);
        var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("key").GetString();
        using var client = fixture.Client(key);
        using var response = await client.PostAsync("v1/uploads", Gzip(TarGz(File("a", "a"))), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private string[] StoredFiles()
    {
        var uploads = Path.Combine(fixture.DataDirectory, "uploads");
        return System.IO.Directory.Exists(uploads) ? [.. System.IO.Directory.GetFiles(uploads, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)] : [];
    }

    private static ByteArrayContent Gzip(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        return content;
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("code").GetString();

    /// <summary>A body of unknown length: HttpClient sends it chunked.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
