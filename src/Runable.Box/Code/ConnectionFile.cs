using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Runable.Box.Code;

/// <summary>
/// A kernel's connection file: the loopback ports of its sockets and the key its messages are signed with.
/// Written where the Jupyter view finds it (<c>kernels/{kernel_id}.json</c> in the box's state directory).
/// </summary>
internal sealed record ConnectionFile
{
    public required string Ip { get; init; }

    public required int ShellPort { get; init; }

    public required int IoPubPort { get; init; }

    public required int StdinPort { get; init; }

    public required int ControlPort { get; init; }

    public required int HeartbeatPort { get; init; }

    /// <summary>The signing key: 256 random bits, never empty (an empty key would turn signing off).</summary>
    public required string Key { get; init; }

    /// <summary>Five free loopback ports and a fresh key.</summary>
    public static ConnectionFile Create()
    {
        var ports = FreePorts(5);
        return new ConnectionFile
        {
            Ip = "127.0.0.1",
            ShellPort = ports[0],
            IoPubPort = ports[1],
            StdinPort = ports[2],
            ControlPort = ports[3],
            HeartbeatPort = ports[4],
            Key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant(),
        };
    }

    /// <summary>Writes the file, readable by the box's user only, with the kernel's name and owner.</summary>
    public void Write(string path, string kernelName, string contextId, int? pid = null)
    {
        var json = new JsonObject
        {
            ["ip"] = Ip,
            ["transport"] = "tcp",
            ["shell_port"] = ShellPort,
            ["iopub_port"] = IoPubPort,
            ["stdin_port"] = StdinPort,
            ["control_port"] = ControlPort,
            ["hb_port"] = HeartbeatPort,
            ["key"] = Key,
            ["signature_scheme"] = "hmac-sha256",
            ["kernel_name"] = kernelName,
            ["runable_context_id"] = contextId,
        };
        if (pid is { } value)
        {
            json["runable_pid"] = value;
        }

        var temporary = path + ".tmp";
        File.WriteAllText(temporary, json.ToJsonString());
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
    }

    // Ports handed out recently, with when: between choosing a port and the kernel binding it, another kernel
    // starting at the same moment must not be given the same one.
    private static readonly Dictionary<int, long> s_recent = [];

    private static int[] FreePorts(int count)
    {
        lock (s_recent)
        {
            var now = Environment.TickCount64;
            foreach (var stale in s_recent.Where(p => now - p.Value > 120_000).Select(p => p.Key).ToList())
            {
                s_recent.Remove(stale);
            }

            // Bound together so no port repeats within one kernel; skipped when given to another kernel lately.
            var sockets = new List<Socket>();
            var ports = new List<int>();
            try
            {
                while (ports.Count < count)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    sockets.Add(socket);
                    socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                    var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
                    if (s_recent.TryAdd(port, now))
                    {
                        ports.Add(port);
                    }
                }
            }
            finally
            {
                sockets.ForEach(s => s.Dispose());
            }

            return [.. ports];
        }
    }
}
