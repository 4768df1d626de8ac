using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Runable.Sandboxes.Network;

/// <summary>
/// The egress proxy: runs outside every sandbox and is the only way out of one. Each sandbox with a network
/// policy gets its own unix socket (bridged to a loopback port inside by the box), so the proxy knows which
/// sandbox asks without any credential. It speaks HTTP/1.1 forward proxying (absolute-form requests) and
/// CONNECT tunnels, and for each request checks the host against the sandbox's policy, refuses IP literals,
/// resolves the name itself and refuses it when any address is not public or belongs to this machine, and
/// connects to exactly the addresses it checked (no second lookup to rebind). The orchestrator's ports are
/// refused on every address.
/// </summary>
public sealed partial class EgressProxy : IAsyncDisposable
{
    private const int MaxHeadBytes = 16 * 1024;
    private readonly ConcurrentDictionary<string, Listener> _listeners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, byte> _forbiddenPorts = new();
    private readonly Dictionary<string, IPAddress[]> _hosts;
    private readonly EgressOptions _options;
    private readonly ILogger<EgressProxy> _logger;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private (HashSet<IPAddress> Addresses, long At) _local = ([], long.MinValue);
    private long _allowed;
    private long _refused;

    public EgressProxy(EgressOptions options, ILogger<EgressProxy> logger, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _resolve = resolve ?? Dns.GetHostAddressesAsync;
        _hosts = options.Hosts.ToDictionary(p => NetworkPolicy.NormalizeHost(p.Key) ?? throw new ArgumentException($"'{p.Key}' is not a host name."),
            p => p.Value, StringComparer.Ordinal);
    }

    /// <summary>Requests let through since start.</summary>
    public long AllowedCount => Interlocked.Read(ref _allowed);

    /// <summary>Requests refused since start.</summary>
    public long RefusedCount => Interlocked.Read(ref _refused);

    /// <summary>Refuses <paramref name="port"/> on every destination (the orchestrator's own ports).</summary>
    public void ForbidPort(int port) => _forbiddenPorts[port] = 0;

    /// <summary>Starts serving <paramref name="sandboxId"/> on a new unix socket at <paramref name="socketPath"/>.</summary>
    public void Start(string sandboxId, NetworkPolicy policy, string socketPath)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Mode == NetworkMode.None)
        {
            throw new ArgumentException("A sandbox without network needs no egress proxy.", nameof(policy));
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            File.Delete(socketPath);
            socket.Bind(new UnixDomainSocketEndPoint(socketPath));
            socket.Listen(128);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var listener = new Listener(sandboxId, policy, socket);
        if (!_listeners.TryAdd(sandboxId, listener))
        {
            socket.Dispose();
            throw new InvalidOperationException($"Sandbox '{sandboxId}' already has an egress proxy.");
        }

        listener.AcceptLoop = AcceptAsync(listener);
    }

    /// <summary>Stops serving a sandbox: closes its socket and every connection it has open.</summary>
    public async Task StopAsync(string sandboxId)
    {
        if (_listeners.TryRemove(sandboxId, out var listener))
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Decides whether a sandbox with <paramref name="policy"/> may reach <paramref name="host"/>:<paramref name="port"/>.</summary>
    public async Task<EgressDecision> DecideAsync(NetworkPolicy policy, string host, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            return EgressDecision.Refuse("IP addresses are refused; ask for a host name");
        }

        if (NetworkPolicy.NormalizeHost(host) is not { } name)
        {
            return EgressDecision.Refuse($"'{host}' is not a host name");
        }

        if (!policy.AllowsHost(name))
        {
            return EgressDecision.Refuse($"'{name}' is not on this sandbox's allowlist");
        }

        if (port is < 1 or > 65535 || _forbiddenPorts.ContainsKey(port))
        {
            return EgressDecision.Refuse($"port {port} is refused");
        }

        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ConnectTimeout);
            addresses = _hosts.TryGetValue(name, out var mapped) ? mapped : await _resolve(name, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return EgressDecision.Refuse($"'{name}' does not resolve");
        }

        if (addresses.Length == 0)
        {
            return EgressDecision.Refuse($"'{name}' does not resolve");
        }

        var local = LocalAddresses();
        var bad = addresses.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)
            .FirstOrDefault(a => !_options.TrustedAddresses.Contains(a) && (!AddressRules.IsPublic(a) || local.Contains(a)));
        return bad is null
            ? EgressDecision.Allow(addresses)
            : EgressDecision.Refuse($"'{name}' resolves to {bad}, which is not a public address");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _listeners.Keys.ToList())
        {
            await StopAsync(id).ConfigureAwait(false);
        }
    }

    private HashSet<IPAddress> LocalAddresses()
    {
        var now = Environment.TickCount64;
        var local = _local;
        if (now - local.At < 30_000)
        {
            return local.Addresses;
        }

        var addresses = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address.IsIPv4MappedToIPv6 ? a.Address.MapToIPv4() : a.Address)
            .ToHashSet();
        _local = (addresses, now);
        return addresses;
    }

    private async Task AcceptAsync(Listener listener)
    {
        while (!listener.Stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.Socket.AcceptAsync(listener.Stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (Interlocked.Increment(ref listener.Open) > _options.MaxConnectionsPerSandbox)
            {
                Interlocked.Decrement(ref listener.Open);
                client.Dispose();
                LogRefused(_logger, listener.SandboxId, "*", 0, "too many connections at once");
                continue;
            }

            _ = ServeAsync(listener, client);
        }
    }

    private async Task ServeAsync(Listener listener, Socket client)
    {
        Socket? upstream = null;
        try
        {
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(listener.Stopping.Token);
            using var registration = connection.Token.Register(() => { client.Dispose(); upstream?.Dispose(); });
            using var headTimeout = CancellationTokenSource.CreateLinkedTokenSource(connection.Token);
            headTimeout.CancelAfter(_options.HeaderTimeout);
            var (head, extra) = await ReadHeadAsync(client, headTimeout.Token).ConfigureAwait(false);
            if (head is null || !TryParse(head, out var request))
            {
                await ReplyAsync(client, 400, "Bad Request", "a proxy request needs 'CONNECT host:port' or an absolute http:// URL").ConfigureAwait(false);
                return;
            }

            var decision = await DecideAsync(listener.Policy, request.Host, request.Port, connection.Token).ConfigureAwait(false);
            if (!decision.Allowed)
            {
                Interlocked.Increment(ref _refused);
                LogRefused(_logger, listener.SandboxId, request.Host, request.Port, decision.Refusal!);
                await ReplyAsync(client, 403, "Forbidden", decision.Refusal!).ConfigureAwait(false);
                return;
            }

            upstream = await ConnectAsync(decision.Addresses, request.Port, connection.Token).ConfigureAwait(false);
            if (upstream is null)
            {
                await ReplyAsync(client, 502, "Bad Gateway", $"could not connect to {request.Host}:{request.Port}").ConfigureAwait(false);
                return;
            }

            Interlocked.Increment(ref _allowed);
            LogAllowed(_logger, listener.SandboxId, request.Method, request.Host, request.Port);
            if (request.Method == "CONNECT")
            {
                await client.SendAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), connection.Token).ConfigureAwait(false);
            }
            else
            {
                await upstream.SendAsync(Encoding.ASCII.GetBytes(request.ForwardHead!), connection.Token).ConfigureAwait(false);
            }

            if (extra.Length > 0)
            {
                await upstream.SendAsync(extra, connection.Token).ConfigureAwait(false);
            }

            await Task.WhenAll(CopyAsync(client, upstream, connection.Token), CopyAsync(upstream, client, connection.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The sandbox or the destination hung up, or the sandbox is being destroyed.
        }
        finally
        {
            upstream?.Dispose();
            client.Dispose();
            Interlocked.Decrement(ref listener.Open);
        }
    }

    private async Task<Socket?> ConnectAsync(IReadOnlyList<IPAddress> addresses, int port, CancellationToken cancellationToken)
    {
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_options.ConnectTimeout);
                await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token).ConfigureAwait(false);
                return socket;
            }
            catch (Exception e) when (e is SocketException || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
            }
        }

        return null;
    }

    /// <summary>Copies one direction until its end, then half-closes the other side so the peer sees the end too.</summary>
    private static async Task CopyAsync(Socket from, Socket to, CancellationToken cancellationToken)
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
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            from.Dispose();
            to.Dispose();
        }
    }

    /// <summary>Reads up to the end of the request's headers; returns them and any bytes read past them.</summary>
    private static async Task<(string? Head, byte[] Extra)> ReadHeadAsync(Socket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return (null, []);
            }

            var searchFrom = Math.Max(0, length - 3);
            length += read;
            var end = buffer.AsSpan(searchFrom, length - searchFrom).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                end += searchFrom + 4;
                return (Encoding.Latin1.GetString(buffer, 0, end), buffer[end..length]);
            }
        }

        return (null, []);
    }

    private static bool TryParse(string head, out ProxyRequest request)
    {
        request = default;
        var lines = head.Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return false;
        }

        var (method, target) = (parts[0], parts[1]);
        if (method == "CONNECT")
        {
            var colon = target.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(target.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            {
                return false;
            }

            request = new ProxyRequest(method, target[..colon].Trim('[', ']'), port, null);
            return true;
        }

        if (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.UserInfo.Length > 0)
        {
            return false;
        }

        // Forward in origin form; the proxy's own headers stay here, and the connection ends with the response
        // so that a second request on it cannot name another host.
        var forward = new StringBuilder().Append(method).Append(' ').Append(uri.PathAndQuery).Append(' ').Append(parts[2]).Append("\r\n");
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var name = line.Split(':', 2)[0].Trim();
            if (!name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) && !name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                && !name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase))
            {
                forward.Append(line).Append("\r\n");
            }
        }

        forward.Append("Connection: close\r\n\r\n");
        request = new ProxyRequest(method, uri.IdnHost.Trim('[', ']'), uri.Port, forward.ToString());
        return true;
    }

    private static async Task ReplyAsync(Socket client, int status, string reason, string detail)
    {
        var body = $"Runable's egress proxy refused this request: {detail}.\n";
        var response = $"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n" +
            $"X-Runable-Egress: refused\r\nConnection: close\r\n\r\n{body}";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await client.SendAsync(Encoding.UTF8.GetBytes(response), timeout.Token).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Egress from {SandboxId}: {Method} {Host}:{Port} allowed")]
    private static partial void LogAllowed(ILogger logger, string sandboxId, string method, string host, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Egress from {SandboxId} to {Host}:{Port} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string sandboxId, string host, int port, string reason);

    private readonly record struct ProxyRequest(string Method, string Host, int Port, string? ForwardHead);

    private sealed class Listener(string sandboxId, NetworkPolicy policy, Socket socket) : IAsyncDisposable
    {
        public int Open;

        public string SandboxId { get; } = sandboxId;

        public NetworkPolicy Policy { get; } = policy;

        public Socket Socket { get; } = socket;

        public CancellationTokenSource Stopping { get; } = new();

        public Task? AcceptLoop { get; set; }

        public async ValueTask DisposeAsync()
        {
            await Stopping.CancelAsync().ConfigureAwait(false);
            Socket.Dispose();
            if (AcceptLoop is not null)
            {
                await AcceptLoop.ConfigureAwait(false);
            }

            Stopping.Dispose();
        }
    }
}
