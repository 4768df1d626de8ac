using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Runable.Web.Api;

/// <summary>
/// Where the UI reaches the orchestrator's API from the server: the address it listens on, with a wildcard host
/// (<c>0.0.0.0</c>, <c>[::]</c>) replaced by loopback, and one connection pool that never goes through a proxy.
/// </summary>
public sealed class OrchestratorAddress(IServer server) : IDisposable
{
    private readonly SocketsHttpHandler _handler = new()
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
    };

    private Uri? _root;

    /// <summary>The connection pool to the orchestrator.</summary>
    public HttpMessageHandler Handler => _handler;

    /// <summary>The orchestrator's own address, e.g. <c>http://127.0.0.1:5100/</c>.</summary>
    public Uri Root => _root ??= Find();

    /// <summary>A client of the API for <paramref name="key"/>.</summary>
    public RunableApi Api(string key) => new(_handler, Root, key);

    public void Dispose() => _handler.Dispose();

    private Uri Find()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The orchestrator listens on no address yet; the UI needs it to call the API.");
        var uri = new Uri(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal));
        var host = uri.Host switch
        {
            "0.0.0.0" => "127.0.0.1",
            "[::]" or "::" => "[::1]",
            var other => other,
        };
        return new UriBuilder(uri) { Host = host, Path = "/" }.Uri;
    }
}
