using NetMQ;
using NetMQ.Sockets;

namespace Runable.Box.Code;

/// <summary>
/// The ZeroMQ sockets to one kernel (shell, iopub, control over TCP on loopback), owned by one poller thread:
/// NetMQ sockets are not thread-safe, so sends are queued to that thread and received messages are raised from it.
/// </summary>
internal sealed class KernelConnection : IDisposable
{
    private readonly byte[] _key;
    private readonly DealerSocket _shell = new();
    private readonly DealerSocket _control = new();
    private readonly SubscriberSocket _iopub = new();
    private readonly NetMQQueue<(KernelChannel Channel, NetMQMessage Message)> _outbox = new();
    private readonly NetMQPoller _poller;
    private readonly Action<KernelChannel, JupyterMessage> _received;

    public KernelConnection(ConnectionFile connection, Action<KernelChannel, JupyterMessage> received)
    {
        _key = System.Text.Encoding.UTF8.GetBytes(connection.Key);
        _received = received;
        foreach (var socket in new NetMQSocket[] { _shell, _control, _iopub })
        {
            socket.Options.Linger = TimeSpan.Zero;
        }

        _iopub.Subscribe("");
        _shell.Connect($"tcp://{connection.Ip}:{connection.ShellPort}");
        _control.Connect($"tcp://{connection.Ip}:{connection.ControlPort}");
        _iopub.Connect($"tcp://{connection.Ip}:{connection.IoPubPort}");
        _shell.ReceiveReady += (_, e) => Drain(KernelChannel.Shell, e.Socket);
        _control.ReceiveReady += (_, e) => Drain(KernelChannel.Control, e.Socket);
        _iopub.ReceiveReady += (_, e) => Drain(KernelChannel.IoPub, e.Socket);
        _outbox.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var item, TimeSpan.Zero))
            {
                (item.Channel == KernelChannel.Control ? _control : _shell).TrySendMultipartMessage(item.Message);
            }
        };
        _poller = [_shell, _control, _iopub, _outbox];
        _poller.RunAsync("runable-kernel", isBackgroundThread: true);
    }

    /// <summary>Queues a request on the shell or control channel.</summary>
    public void Send(KernelChannel channel, JupyterMessage message) => _outbox.Enqueue((channel, message.Encode(_key)));

    public void Dispose()
    {
        _poller.Stop();
        _poller.Dispose();
        _outbox.Dispose();
        _shell.Dispose();
        _control.Dispose();
        _iopub.Dispose();
    }

    private void Drain(KernelChannel channel, NetMQSocket socket)
    {
        var frames = new NetMQMessage();
        while (socket.TryReceiveMultipartMessage(ref frames))
        {
            if (JupyterMessage.Decode(frames, _key) is { } message)
            {
                _received(channel, message);
            }

            frames = new NetMQMessage();
        }
    }
}
