using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Runable.Box.Network;

/// <summary>
/// Bridges a loopback port inside the sandbox to the egress proxy's unix socket outside it: the sandbox's
/// network namespace has no route anywhere, and this bridge, reached through <c>HTTP_PROXY</c>, is its only
/// way out. It passes bytes only; every decision is the proxy's.
/// </summary>
public sealed partial class EgressBridge(IOptions<BoxOptions> options, ILogger<EgressBridge> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.EgressSocket is not { Length: > 0 } socketPath)
        {
            return;
        }

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, options.Value.EgressPort));
        listener.Listen(128);
        LogListening(logger, options.Value.EgressPort, socketPath);
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = RelayAsync(client, socketPath, stoppingToken);
        }
    }

    private static async Task RelayAsync(Socket client, string socketPath, CancellationToken stoppingToken)
    {
        using (client)
        using (var proxy = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                client.NoDelay = true;
                await proxy.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), stoppingToken).ConfigureAwait(false);
                await Task.WhenAll(PumpAsync(client, proxy, stoppingToken), PumpAsync(proxy, client, stoppingToken)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Either side hung up, or the box is stopping.
            }
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            from.Dispose();
            to.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bridging 127.0.0.1:{Port} to the egress proxy at {Socket}")]
    private static partial void LogListening(ILogger logger, int port, string socket);
}
