namespace Runable.Web.Components.Trajectory;

/// <summary>An image carried in an event (a screenshot), shown as a <c>data:</c> URL of an image type only.</summary>
public sealed record InlineImage(string MediaType, string Base64)
{
    private static readonly HashSet<string> s_types = new(StringComparer.OrdinalIgnoreCase) { "image/png", "image/jpeg", "image/gif", "image/webp" };

    /// <summary>The image as a <c>data:</c> URL.</summary>
    public string DataUrl => $"data:{MediaType};base64,{Base64}";

    /// <summary>An image when <paramref name="mediaType"/> is a raster image type and <paramref name="base64"/> is base64; null otherwise.</summary>
    public static InlineImage? Create(string? mediaType, string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        if (mediaType is null || !s_types.Contains(mediaType))
        {
            return null;
        }

        var trimmed = base64.Trim();
        return trimmed.Length > 0 && !trimmed.Any(char.IsWhiteSpace) && System.Buffers.Text.Base64.IsValid(trimmed)
            ? new InlineImage(mediaType.ToLowerInvariant(), trimmed)
            : null;
    }
}
