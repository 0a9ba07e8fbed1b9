using System.Net;
using System.Net.Sockets;

namespace AkkaCache.Server.Network;

/// <summary>Accepts TCP clients on one address and hands each to the node's <see cref="SessionHost"/>.</summary>
internal sealed class NodeListener : IAsyncDisposable
{
    private readonly SessionHost _sessions;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;

    public NodeListener(SessionHost sessions, IPEndPoint endPoint)
    {
        _sessions = sessions;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (endPoint.AddressFamily == AddressFamily.InterNetworkV6) _socket.DualMode = false;
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(endPoint);
        _socket.Listen(511); // redis's tcp-backlog
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _acceptLoop = AcceptLoop.RunAsync(_socket, client => _sessions.TryStart(new SocketConnection(client)), _stopping.Token);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Stops accepting; the sessions of accepted clients are ended by the <see cref="SessionHost"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _socket.Dispose();
        await _acceptLoop;
        _stopping.Dispose();
    }
}
