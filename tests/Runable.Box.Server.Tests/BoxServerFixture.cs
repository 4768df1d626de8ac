using Microsoft.AspNetCore.Builder;
using Runable.Box.Client;
using Runable.Box.Server.Hosting;

namespace Runable.Box.Server.Tests;

/// <summary>A real box server on a free loopback port with a fresh workspace, shared by the tests of one class.</summary>
public sealed class BoxServerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public const string ApiKey = "test-key-0123456789abcdef";

    /// <summary>The workspace directory the box serves.</summary>
    public string Workspace { get; } = Directory.CreateTempSubdirectory("runable-ws-").FullName;

    /// <summary>The box's base address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A client carrying the right key.</summary>
    public BoxClient Client { get; private set; } = null!;

    /// <summary>The server's services, for looking behind the API where a test must.</summary>
    public IServiceProvider Services => _app!.Services;

    public async ValueTask InitializeAsync()
    {
        _app = BoxServer.Create(new BoxServerSettings { Port = 0, Workspace = Workspace, ApiKey = ApiKey });
        await _app.StartAsync();
        BaseAddress = new Uri(BoxServer.ListeningUrls(_app).First().TrimEnd('/') + "/");
        Client = new BoxClient(BaseAddress, ApiKey);
    }

    /// <summary>A raw HTTP client with no key.</summary>
    public HttpClient AnonymousHttp() => new() { BaseAddress = BaseAddress };

    /// <summary>A raw HTTP client with the key.</summary>
    public HttpClient Http()
    {
        var http = new HttpClient { BaseAddress = BaseAddress };
        http.DefaultRequestHeaders.Add("X-API-Key", ApiKey);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(Workspace, recursive: true);
    }
}
