using System.Net;
using System.Net.Sockets;

namespace AkkaCache.Client.Tests.Infrastructure;

/// <summary>
/// A real TCP relay in front of a real node, so tests can do to the network what happens in production: stall the
/// node's replies (a paused process, a congested link), or cut every connection (a node dying mid-request).
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly List<(Socket Client, Socket Node)> _pairs = [];
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private volatile TaskCompletionSource _flowing = Flowing();

    public TcpRelay(int targetPort)
    {
        _target = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }
    public string EndPoint => $"127.0.0.1:{Port}";

    public int Connections
    {
        get
        {
            lock (_gate) return _pairs.Count;
        }
    }

    private static TaskCompletionSource Flowing()
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flowing.SetResult();
        return flowing;
    }

    /// <summary>Holds back everything the node sends until <see cref="Resume"/>.</summary>
    public void Stall() => _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Resume() => _flowing.TrySetResult();

    /// <summary>Resets every relayed connection (RST to the client), as a killed node does; new connections are still relayed.</summary>
    public void CutAll()
    {
        lock (_gate)
        {
            foreach (var (client, node) in _pairs)
            {
                try
                {
                    client.LingerState = new LingerOption(true, 0);
                }
                catch (ObjectDisposedException)
                {
                    // its pump closed it already
                }
                client.Dispose();
                node.Dispose();
            }
            _pairs.Clear();
        }
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                var node = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await node.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _target), _stop.Token);
                client.NoDelay = true;
                lock (_gate) _pairs.Add((client, node));
                _ = PumpAsync(client, node, stallable: false);
                _ = PumpAsync(node, client, stallable: true);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool stallable)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0) break;
                if (stallable) await _flowing.Task.WaitAsync(_stop.Token);
                int sent = 0;
                while (sent < read) sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, _stop.Token);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception)
        {
            // one side is gone: the other goes too
            from.Dispose();
            to.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        CutAll();
        return ValueTask.CompletedTask;
    }
}
