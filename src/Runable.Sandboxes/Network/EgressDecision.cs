using System.Net;

namespace Runable.Sandboxes.Network;

/// <summary>What the egress proxy decided for one request: the addresses to connect to, or why not.</summary>
public sealed record EgressDecision
{
    private EgressDecision(IReadOnlyList<IPAddress> addresses, string? refusal)
    {
        Addresses = addresses;
        Refusal = refusal;
    }

    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <summary>Why the request was refused; null when it was allowed.</summary>
    public string? Refusal { get; }

    public bool Allowed => Refusal is null;

    public static EgressDecision Allow(IReadOnlyList<IPAddress> addresses) => new(addresses, null);

    public static EgressDecision Refuse(string reason) => new([], reason);
}
