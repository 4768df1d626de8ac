using System.Globalization;
using System.Net;

namespace Runable.Sandboxes.Network;

/// <summary>
/// A sandbox's network policy: its mode and, for <see cref="NetworkMode.Allowlist"/>, the host names it may
/// reach. An entry is a name (<c>example.com</c>, that name only) or a wildcard (<c>*.example.com</c>, any name
/// under it but not the name itself). Names are kept lower case and in their ASCII (punycode) form.
/// </summary>
public sealed class NetworkPolicy
{
    private static readonly IdnMapping Idn = new();

    private NetworkPolicy(NetworkMode mode, IReadOnlyList<string> allow)
    {
        Mode = mode;
        Allow = allow;
    }

    /// <summary>Loopback only.</summary>
    public static NetworkPolicy None { get; } = new(NetworkMode.None, []);

    /// <summary>Any public host through the egress proxy.</summary>
    public static NetworkPolicy Open { get; } = new(NetworkMode.Open, []);

    public NetworkMode Mode { get; }

    public IReadOnlyList<string> Allow { get; }

    /// <summary>An allowlist policy; throws <see cref="ArgumentException"/> naming the first entry that is not a host name.</summary>
    public static NetworkPolicy AllowOnly(IEnumerable<string> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var normalized = new List<string>();
        foreach (var entry in hosts)
        {
            var wildcard = entry.StartsWith("*.", StringComparison.Ordinal);
            var name = NormalizeHost(wildcard ? entry[2..] : entry)
                ?? throw new ArgumentException($"'{entry}' is not a host name: use a name such as 'example.com' or '*.example.com' (IP addresses are refused).", nameof(hosts));
            normalized.Add(wildcard ? "*." + name : name);
        }

        if (normalized.Count == 0)
        {
            throw new ArgumentException("An allowlist needs at least one host name.", nameof(hosts));
        }

        return new NetworkPolicy(NetworkMode.Allowlist, normalized.Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>True when the policy lets the sandbox ask for <paramref name="host"/> (a name, already normalized).</summary>
    public bool AllowsHost(string host) => Mode switch
    {
        NetworkMode.Open => true,
        NetworkMode.Allowlist => Allow.Any(entry => entry.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(entry[1..], StringComparison.Ordinal) && host.Length > entry.Length - 1
            : string.Equals(entry, host, StringComparison.Ordinal)),
        _ => false,
    };

    /// <summary>
    /// The lower-case ASCII form of a host name, or null when it is not one (empty, an IP address, bad labels).
    /// A trailing dot is dropped.
    /// </summary>
    public static string? NormalizeHost(string host)
    {
        if (string.IsNullOrWhiteSpace(host) || host.Length > 253)
        {
            return null;
        }

        host = host.TrimEnd('.');
        if (IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            return null;
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(host).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }

        var labels = ascii.Split('.');
        var valid = labels.All(label => label.Length is > 0 and <= 63 && label[0] != '-' && label[^1] != '-'
            && label.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'));

        // A name whose last label is all digits reads as an address to some resolvers (e.g. 2130706433, 0x7f.1).
        return valid && !labels[^1].All(char.IsAsciiDigit) && !labels[^1].StartsWith("0x", StringComparison.Ordinal) ? ascii : null;
    }

    public override string ToString() => Mode == NetworkMode.Allowlist ? $"allowlist ({string.Join(", ", Allow)})" : Mode.ToString().ToLowerInvariant();
}
