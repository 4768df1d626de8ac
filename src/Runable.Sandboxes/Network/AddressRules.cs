using System.Net;
using System.Net.Sockets;

namespace Runable.Sandboxes.Network;

/// <summary>
/// Which addresses the egress proxy may connect to: public unicast only. Loopback, private (RFC 1918, unique
/// local), shared (CGNAT), link-local (169.254.0.0/16 and its cloud metadata service, fe80::/10), multicast,
/// reserved and documentation ranges are refused, including when embedded in IPv6 (mapped, NAT64, 6to4).
/// </summary>
public static class AddressRules
{
    private static readonly (uint Network, int Bits)[] RefusedV4 =
    [
        (V4(0, 0, 0, 0), 8), (V4(10, 0, 0, 0), 8), (V4(100, 64, 0, 0), 10), (V4(127, 0, 0, 0), 8),
        (V4(169, 254, 0, 0), 16), (V4(172, 16, 0, 0), 12), (V4(192, 0, 0, 0), 24), (V4(192, 0, 2, 0), 24),
        (V4(192, 88, 99, 0), 24), (V4(192, 168, 0, 0), 16), (V4(198, 18, 0, 0), 15), (V4(198, 51, 100, 0), 24),
        (V4(203, 0, 113, 0), 24), (V4(224, 0, 0, 0), 4), (V4(240, 0, 0, 0), 4),
    ];

    /// <summary>True when <paramref name="address"/> is a public unicast address.</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var bytes = address.GetAddressBytes();
            var value = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
            return !RefusedV4.Any(r => (value >> (32 - r.Bits)) == (r.Network >> (32 - r.Bits)));
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        var b = address.GetAddressBytes();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal
            || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (b[0] & 0xfe) == 0xfc)
        {
            return false;
        }

        // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address: judge that.
        if (b.Take(12).All(x => x == 0))
        {
            return IsPublic(new IPAddress(b[12..16]));
        }

        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
        {
            return IsPublic(new IPAddress(b[12..16]));
        }

        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return IsPublic(new IPAddress(b[2..6]));
        }

        // Documentation (2001:db8::/32), discard (100::/64), Teredo and ORCHID-style 2001::/23 specials, 3fff::/20.
        return !(b[0] == 0x20 && b[1] == 0x01 && (b[2] == 0x0d && b[3] == 0xb8 || b[2] < 0x02))
            && !(b[0] == 0x01 && b[1] == 0x00 && b.Skip(2).Take(6).All(x => x == 0))
            && !(b[0] == 0x3f && (b[1] & 0xf0) == 0xf0);
    }

    private static uint V4(byte a, byte b, byte c, byte d) => (uint)(a << 24 | b << 16 | c << 8 | d);
}
