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
        AllowRebindWhileClosing(_socket);
        _socket.Bind(endPoint);
        _socket.Listen(511); // redis's tcp-backlog
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _acceptLoop = AcceptLoop.RunAsync(_socket, client => _sessions.TryStart(new SocketConnection(client)), _stopping.Token);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// A restarted node may bind while its old connections linger in TIME_WAIT (SO_REUSEADDR), but a second process can
    /// never listen on the port too: .NET's ReuseAddress adds SO_REUSEPORT on Unix, which would let the kernel split
    /// connections between two nodes, so the plain option is set directly. Windows's SO_REUSEADDR means port sharing:
    /// there the port is taken exclusively instead.
    /// </summary>
    internal static void AllowRebindWhileClosing(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            // the runtime sets both on a new socket; SO_REUSEPORT is taken back
            socket.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
            socket.SetRawSocketOption(1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT */, BitConverter.GetBytes(0));
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            socket.SetRawSocketOption(0xffff, 4 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
            socket.SetRawSocketOption(0xffff, 0x200 /* SO_REUSEPORT */, BitConverter.GetBytes(0));
        }
        else socket.ExclusiveAddressUse = true;
    }

    /// <summary>Stops accepting; the sessions of accepted clients are ended by the <see cref="SessionHost"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _socket.Dispose();
        await _acceptLoop;
        _stopping.Dispose();
    }
}
