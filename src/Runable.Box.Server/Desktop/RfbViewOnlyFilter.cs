using System.Buffers;
using System.Buffers.Binary;

namespace Runable.Box.Server.Desktop;

/// <summary>
/// Makes a VNC session view-only by reading the client-to-server RFB stream (RFC 6143) and passing on only what
/// does not touch the desktop: the handshake, SetPixelFormat, SetEncodings, FramebufferUpdateRequest and the
/// extensions noVNC uses to pace updates (EnableContinuousUpdates, ClientFence). KeyEvent, PointerEvent,
/// ClientCutText and SetDesktopSize are dropped. Anything it cannot read (a security type other than None, an
/// unknown message) ends the session: it fails closed.
/// </summary>
public sealed class RfbViewOnlyFilter
{
    private const int VersionLength = 12;
    private readonly ArrayBufferWriter<byte> _pending = new(256);
    private Stage _stage = Stage.Version;
    private bool _broken;

    private enum Stage
    {
        Version,
        SecurityType,
        ClientInit,
        Messages,
    }

    /// <summary>Why the stream was refused, once <see cref="Filter"/> returned false.</summary>
    public string? Error { get; private set; }

    /// <summary>
    /// Takes the next bytes the client sent and writes to <paramref name="output"/> the complete messages that may
    /// reach the server (a message split across calls is held until it is whole); false when the stream must be cut.
    /// </summary>
    public bool Filter(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_broken)
        {
            return false;
        }

        _pending.Write(input);
        var data = _pending.WrittenSpan;
        var offset = 0;
        while (offset < data.Length)
        {
            var rest = data[offset..];
            var length = MessageLength(rest, out var pass);
            if (length < 0)
            {
                _broken = true;
                return false;
            }

            if (length == 0 || rest.Length < length)
            {
                break; // wait for the rest
            }

            if (pass)
            {
                output.Write(rest[..length]);
            }

            Advance(rest[..length]);
            offset += length;
        }

        var left = data[offset..].ToArray();
        _pending.Clear();
        _pending.Write(left);
        return true;
    }

    /// <summary>The length of the item at the head of <paramref name="data"/>; 0 when more bytes are needed to tell, -1 when refused.</summary>
    private int MessageLength(ReadOnlySpan<byte> data, out bool pass)
    {
        pass = true;
        switch (_stage)
        {
            case Stage.Version:
                return VersionLength;
            case Stage.SecurityType:
                if (data[0] != 1)
                {
                    return Refuse($"security type {data[0]} (only None, 1, can be read by the view-only filter)");
                }

                return 1;
            case Stage.ClientInit:
                return 1;
        }

        switch (data[0])
        {
            case 0: // SetPixelFormat
                return 20;
            case 2: // SetEncodings
                return data.Length < 4 ? 0 : 4 + 4 * BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            case 3: // FramebufferUpdateRequest
                return 10;
            case 4: // KeyEvent
                pass = false;
                return 8;
            case 5: // PointerEvent
                pass = false;
                return 6;
            case 6: // ClientCutText (a negative length is the extended clipboard's)
                pass = false;
                if (data.Length < 8)
                {
                    return 0;
                }

                var text = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                return text == int.MinValue || Math.Abs(text) > 16 * 1024 * 1024 ? Refuse("an oversized ClientCutText") : 8 + Math.Abs(text);
            case 150: // EnableContinuousUpdates
                return 10;
            case 248: // ClientFence
                return data.Length < 9 ? 0 : 9 + data[8];
            case 251: // SetDesktopSize
                pass = false;
                return data.Length < 7 ? 0 : 8 + 16 * data[6];
            default:
                return Refuse($"client message type {data[0]}");
        }
    }

    private void Advance(ReadOnlySpan<byte> item)
    {
        switch (_stage)
        {
            case Stage.Version:
                // RFB 3.3: the server picks the security type and the client sends none.
                _stage = item.SequenceEqual("RFB 003.003\n"u8) ? Stage.ClientInit : Stage.SecurityType;
                break;
            case Stage.SecurityType:
                _stage = Stage.ClientInit;
                break;
            case Stage.ClientInit:
                _stage = Stage.Messages;
                break;
        }
    }

    private int Refuse(string what)
    {
        Error = $"The view-only session was closed: {what}.";
        return -1;
    }
}
