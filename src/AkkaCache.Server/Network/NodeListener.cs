using System.Net;
using System.Net.Sockets;

namespace AkkaCache.Server.Network;

/// <summary>Accepts TCP clients on one address and runs a <see cref="ClientSession"/> for each.</summary>
internal sealed class NodeListener : IAsyncDisposable
{
    private readonly CacheNode _node;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private readonly HashSet<Task> _sessions = [];

    public NodeListener(CacheNode node, IPEndPoint endPoint)
    {
        _node = node;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (endPoint.AddressFamily == AddressFamily.InterNetworkV6) _socket.DualMode = false;
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(endPoint);
        _socket.Listen(511); // redis's tcp-backlog
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _acceptLoop = AcceptAsync();
    }

    public IPEndPoint EndPoint { get; }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException)
            {
                continue; // a client that reset before we accepted it
            }
            // ids follow the order clients connected in, as in Redis
            var connection = new SocketConnection(client);
            var info = _node.Clients.Add(connection.RemoteAddress, connection.LocalAddress, _node.NowMs, connection.Abort);
            var session = Task.Run(() => RunSessionAsync(connection, info));
            lock (_sessions) _sessions.Add(session);
            _ = session.ContinueWith(t => { lock (_sessions) _sessions.Remove(t); }, TaskScheduler.Default);
        }
    }

    private async Task RunSessionAsync(SocketConnection connection, ClientInfo info)
    {
        var session = new ClientSession(_node, info, connection);
        try
        {
            await session.RunAsync(_stopping.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // a bug in one session must cost that client its connection, never the node
            Console.Error.WriteLine($"akkacache: connection {info.Address} closed after an internal error: {e}");
        }
        finally
        {
            connection.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _socket.Dispose();
        await _acceptLoop;
        Task[] sessions;
        lock (_sessions) sessions = [.. _sessions];
        await Task.WhenAll(sessions);
        _stopping.Dispose();
    }
}
