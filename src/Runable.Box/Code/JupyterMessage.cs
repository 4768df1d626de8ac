using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using NetMQ;

namespace Runable.Box.Code;

/// <summary>
/// A message of the Jupyter messaging protocol (version 5.3): header, parent header, metadata and content, sent
/// as ZeroMQ frames after the <c>&lt;IDS|MSG&gt;</c> delimiter and signed with HMAC-SHA256 over those four parts.
/// </summary>
internal sealed class JupyterMessage
{
    private static readonly byte[] Delimiter = "<IDS|MSG>"u8.ToArray();

    public JupyterMessage(JsonObject header, JsonObject parentHeader, JsonObject metadata, JsonObject content)
    {
        Header = header;
        ParentHeader = parentHeader;
        Metadata = metadata;
        Content = content;
    }

    public JsonObject Header { get; }

    public JsonObject ParentHeader { get; }

    public JsonObject Metadata { get; }

    public JsonObject Content { get; }

    public string MsgType => (string?)Header["msg_type"] ?? "";

    public string MsgId => (string?)Header["msg_id"] ?? "";

    /// <summary>The id of the request this message answers or reports on.</summary>
    public string? ParentId => (string?)ParentHeader["msg_id"];

    /// <summary>A new request of <paramref name="msgType"/> in <paramref name="session"/>.</summary>
    public static JupyterMessage Request(string session, string msgType, JsonObject content) => new(
        new JsonObject
        {
            ["msg_id"] = Guid.NewGuid().ToString("N"),
            ["session"] = session,
            ["username"] = "runable",
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture),
            ["msg_type"] = msgType,
            ["version"] = "5.3",
        },
        [], [], content);

    /// <summary>The frames of this message, signed with <paramref name="key"/>.</summary>
    public NetMQMessage Encode(byte[] key)
    {
        var parts = new[] { Header, ParentHeader, Metadata, Content }.Select(p => Encoding.UTF8.GetBytes(p.ToJsonString())).ToArray();
        var message = new NetMQMessage();
        message.Append(Delimiter);
        message.Append(Sign(key, parts));
        foreach (var part in parts)
        {
            message.Append(part);
        }

        return message;
    }

    /// <summary>Decodes frames into a message; null when they are malformed or the signature does not match.</summary>
    public static JupyterMessage? Decode(NetMQMessage frames, byte[] key)
    {
        var index = 0;
        while (index < frames.FrameCount && !frames[index].Buffer.AsSpan(0, frames[index].MessageSize).SequenceEqual(Delimiter))
        {
            index++;
        }

        if (frames.FrameCount < index + 6)
        {
            return null;
        }

        var signature = frames[index + 1].ConvertToString(Encoding.ASCII);
        var parts = Enumerable.Range(index + 2, 4).Select(i => frames[i].ToByteArray()).ToArray();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature), Encoding.ASCII.GetBytes(Sign(key, parts))))
        {
            return null;
        }

        try
        {
            var objects = parts.Select(p => JsonNode.Parse(p) as JsonObject ?? []).ToArray();
            return new JupyterMessage(objects[0], objects[1], objects[2], objects[3]);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string Sign(byte[] key, byte[][] parts)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        foreach (var part in parts)
        {
            hmac.AppendData(part);
        }

        return Convert.ToHexString(hmac.GetHashAndReset()).ToLowerInvariant();
    }
}
