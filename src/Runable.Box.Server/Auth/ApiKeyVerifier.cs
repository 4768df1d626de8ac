using System.Security.Cryptography;
using System.Text;

namespace Runable.Box.Server.Auth;

/// <summary>Checks a presented key against the configured one in constant time (both are hashed first, so length leaks nothing).</summary>
public sealed class ApiKeyVerifier
{
    private readonly byte[]? _expectedHash;

    public ApiKeyVerifier(string? apiKey)
    {
        _expectedHash = string.IsNullOrEmpty(apiKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));
    }

    /// <summary>True when no key is configured (insecure local mode).</summary>
    public bool AllowsAnonymous => _expectedHash is null;

    /// <summary>True when <paramref name="presented"/> is the configured key.</summary>
    public bool Verify(string? presented)
    {
        if (_expectedHash is null)
        {
            return true;
        }

        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetBytes(presented);
        SHA256.HashData(bytes, hash);
        return CryptographicOperations.FixedTimeEquals(hash, _expectedHash);
    }
}
