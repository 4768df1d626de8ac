using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Runable.Web.Hosting;

/// <summary>
/// The UI's static files (its CSS and scripts, noVNC, xterm.js, Blazor's script), embedded in this assembly at build and
/// served from memory with an ETag, so any program that hosts the orchestrator serves the same UI.
/// </summary>
internal sealed class EmbeddedAssets
{
    private const string Prefix = "ui/";
    private readonly FrozenDictionary<string, Asset> _assets;

    public EmbeddedAssets()
    {
        var assembly = typeof(EmbeddedAssets).Assembly;
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".mjs"] = "text/javascript";
        types.Mappings[".js"] = "text/javascript";
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var bytes = memory.ToArray();
            var type = types.TryGetContentType(name, out var found) ? found : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal) || type.EndsWith("json", StringComparison.Ordinal))
            {
                type += "; charset=utf-8";
            }

            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..20] + "\"";
            assets[name[Prefix.Length..]] = new Asset(bytes, type, etag);
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The paths served, relative to <c>/ui/</c>.</summary>
    public IEnumerable<string> Paths => _assets.Keys;

    /// <summary>Serves the asset at <paramref name="path"/> (relative to <c>/ui/</c>), or a 404.</summary>
    public async Task ServeAsync(HttpContext context, string path)
    {
        if (!_assets.TryGetValue(path, out var asset))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.Headers.ETag = asset.ETag;
        // Revalidated on every use: a new build never meets a stale script in the browser's cache.
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(asset.Bytes, context.RequestAborted);
        }
    }

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
