namespace AkkaCache.Server.Network;

/// <summary>Runs a <see cref="ClientSession"/> per connection, socket or in-process, and stops them all with the node.</summary>
internal sealed class SessionHost(CacheNode node)
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Microsoft.Extensions.Logging.ILogger _logger = Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<SessionHost>(node.Logging);
    private readonly HashSet<Task> _sessions = [];
    private bool _stopped;

    /// <summary>Registers the client and starts its session; false (the connection disposed) once the node is stopping.</summary>
    public bool TryStart(ClientConnection connection)
    {
        lock (_sessions)
        {
            if (_stopped)
            {
                connection.Dispose();
                return false;
            }
            // ids follow the order clients connected in, as in Redis
            var info = node.Clients.Add(connection.RemoteAddress, connection.LocalAddress, node.NowMs, connection.Abort);
            var session = Task.Run(() => RunAsync(connection, info));
            _sessions.Add(session);
            _ = session.ContinueWith(t => { lock (_sessions) _sessions.Remove(t); }, TaskScheduler.Default);
            return true;
        }
    }

    private async Task RunAsync(ClientConnection connection, ClientInfo info)
    {
        var session = new ClientSession(node, info, connection);
        try
        {
            await session.RunAsync(_stopping.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // a bug in one session must cost that client its connection, never the node
            Microsoft.Extensions.Logging.LoggerExtensions.LogError(_logger, e, "connection {Client} closed after an internal error", info.Address);
        }
        finally
        {
            connection.Dispose();
        }
    }

    /// <summary>Ends every session (their receives are cancelled) and waits for them.</summary>
    public async ValueTask StopAsync()
    {
        Task[] sessions;
        lock (_sessions)
        {
            if (_stopped) return;
            _stopped = true;
            sessions = [.. _sessions];
        }
        _stopping.Cancel();
        await Task.WhenAll(sessions);
        _stopping.Dispose();
    }
}
