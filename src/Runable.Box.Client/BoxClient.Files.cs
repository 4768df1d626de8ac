using System.Globalization;
using System.Net.Http.Headers;
using Runable.Box.Protocol.Files;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Client;

public sealed partial class BoxClient
{
    /// <summary><c>GET /files</c>: a file's raw bytes.</summary>
    public async Task<byte[]> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(Query("files", ("path", path)), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>PUT /files</c>: writes a file (parents are created).</summary>
    public async Task<FileWriteResult> WriteFileAsync(string path, Stream content, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, Query("files", ("path", path))) { Content = new StreamContent(content) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, BoxJsonContext.Default.FileWriteResult, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>PUT /files</c> with bytes.</summary>
    public Task<FileWriteResult> WriteFileAsync(string path, byte[] content, CancellationToken cancellationToken = default) =>
        WriteFileAsync(path, new MemoryStream(content), cancellationToken);

    /// <summary><c>GET /files/text</c>: a range of lines.</summary>
    public Task<TextFileResult> ReadTextAsync(string path, int? startLine = null, int? endLine = null, CancellationToken cancellationToken = default) =>
        GetJsonAsync(Query("files/text", ("path", path), ("start_line", startLine?.ToString(CultureInfo.InvariantCulture)),
            ("end_line", endLine?.ToString(CultureInfo.InvariantCulture))), BoxJsonContext.Default.TextFileResult, cancellationToken);

    /// <summary><c>POST /files/edit</c>: replaces the one occurrence of <paramref name="oldStr"/>.</summary>
    public Task<FileEditResult> EditFileAsync(string path, string oldStr, string newStr, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "files/edit", new FileEditRequest { Path = path, OldStr = oldStr, NewStr = newStr },
            BoxJsonContext.Default.FileEditRequest, BoxJsonContext.Default.FileEditResult, cancellationToken);

    /// <summary><c>GET /files/list</c>.</summary>
    public Task<FileListResult> ListFilesAsync(string path = "", int depth = 1, CancellationToken cancellationToken = default) =>
        GetJsonAsync(Query("files/list", ("path", path), ("depth", depth.ToString(CultureInfo.InvariantCulture))),
            BoxJsonContext.Default.FileListResult, cancellationToken);

    /// <summary><c>POST /files/search</c>.</summary>
    public Task<FileSearchResult> SearchFilesAsync(FileSearchRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "files/search", request, BoxJsonContext.Default.FileSearchRequest,
            BoxJsonContext.Default.FileSearchResult, cancellationToken);

    /// <summary><c>POST /files/move</c>.</summary>
    public Task<FileEntry> MoveAsync(string src, string dst, bool overwrite = false, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "files/move", new FileMoveRequest { Src = src, Dst = dst, Overwrite = overwrite },
            BoxJsonContext.Default.FileMoveRequest, BoxJsonContext.Default.FileEntry, cancellationToken);

    /// <summary><c>DELETE /files</c>.</summary>
    public Task DeleteAsync(string path, bool recursive = false, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Delete, Query("files", ("path", path), ("recursive", recursive ? "true" : "false"))), cancellationToken);

    /// <summary><c>POST /files/mkdir</c>.</summary>
    public Task<FileEntry> MkdirAsync(string path, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "files/mkdir", new FilePathRequest { Path = path }, BoxJsonContext.Default.FilePathRequest,
            BoxJsonContext.Default.FileEntry, cancellationToken);

    /// <summary><c>GET /files/stat</c>.</summary>
    public Task<FileEntry> StatAsync(string path, CancellationToken cancellationToken = default) =>
        GetJsonAsync(Query("files/stat", ("path", path)), BoxJsonContext.Default.FileEntry, cancellationToken);

    /// <summary><c>GET /files/archive</c>: a directory as tar.gz bytes.</summary>
    public async Task<byte[]> DownloadArchiveAsync(string path = "", CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(Query("files/archive", ("path", path)), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>POST /files/archive</c>: unpacks a tar.gz into a directory.</summary>
    public async Task<ArchiveExtractResult> UploadArchiveAsync(string path, Stream archive, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Query("files/archive", ("path", path))) { Content = new StreamContent(archive) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, BoxJsonContext.Default.ArchiveExtractResult, cancellationToken).ConfigureAwait(false);
    }
}
