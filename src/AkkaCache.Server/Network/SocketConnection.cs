using System.Net.Sockets;

namespace AkkaCache.Server.Network;

/// <summary>A TCP client: the socket's own ValueTasks are pooled, so a round trip allocates nothing.</summary>
internal sealed class SocketConnection : ClientConnection
{
    private readonly Socket _socket;

    public SocketConnection(Socket socket)
    {
        _socket = socket;
        socket.NoDelay = true;
        RemoteAddress = socket.RemoteEndPoint?.ToString() ?? "?";
        LocalAddress = socket.LocalEndPoint?.ToString() ?? "?";
    }

    public override string RemoteAddress { get; }
    public override string LocalAddress { get; }

    protected override ValueTask<int> ReceiveCoreAsync(Memory<byte> buffer, CancellationToken cancellation) =>
        _socket.ReceiveAsync(buffer, SocketFlags.None, cancellation);

    protected override ValueTask<int> SendCoreAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation) =>
        _socket.SendAsync(data, SocketFlags.None, cancellation);

    public override void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public override void Dispose() => _socket.Dispose();
}
