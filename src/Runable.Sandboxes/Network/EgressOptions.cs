using System.Net;

namespace Runable.Sandboxes.Network;

/// <summary>Settings of the egress proxy.</summary>
public sealed record EgressOptions
{
    /// <summary>
    /// Names the proxy maps to fixed addresses instead of asking DNS (its own hosts file). The addresses are held
    /// to the same rules as DNS answers.
    /// </summary>
    public IReadOnlyDictionary<string, IPAddress[]> Hosts { get; init; } = new Dictionary<string, IPAddress[]>();

    /// <summary>
    /// Addresses the proxy may connect to although they are not public (an internal package mirror, a test
    /// server on loopback). A sandbox still reaches them only through names its policy allows, and never on the
    /// orchestrator's ports.
    /// </summary>
    public IReadOnlySet<IPAddress> TrustedAddresses { get; init; } = new HashSet<IPAddress>();

    /// <summary>How long resolving and connecting to a destination may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a client may take to send its request line and headers.</summary>
    public TimeSpan HeaderTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections one sandbox may hold open through the proxy at once.</summary>
    public int MaxConnectionsPerSandbox { get; init; } = 256;
}
