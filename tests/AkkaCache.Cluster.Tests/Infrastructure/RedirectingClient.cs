using System.Globalization;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.Tests.Infrastructure;

/// <summary>
/// A cluster-aware test client, as Redis Cluster clients behave: follows -MOVED, follows -ASK with ASKING, retries
/// -TRYAGAIN and -CLUSTERDOWN and unreachable nodes after a short pause, and counts what it saw.
/// </summary>
public sealed class RedirectingClient(TestCluster cluster) : IAsyncDisposable
{
    private readonly Dictionary<int, RespTestClient> _connections = [];

    public int Moved { get; private set; }
    public int Asked { get; private set; }
    public int Retried { get; private set; }

    public async Task<RespValue> SendAsync(params string[] args) => (await SendAsync(args, null)).Reply;

    /// <summary>Sends <paramref name="args"/> to the owner; on success sends <paramref name="followUp"/> (e.g. WAIT) on the same connection.</summary>
    public async Task<(RespValue Reply, RespValue? FollowUp)> SendAsync(string[] args, string[]? followUp)
    {
        int port = cluster.Running.First().Port;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        bool asking = false;
        while (true)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{string.Join(' ', args)} did not complete");
            RespValue reply;
            RespValue? followUpReply = null;
            try
            {
                var connection = await ConnectAsync(port);
                if (asking) (await connection.SendAsync("ASKING")).AssertOk();
                reply = await connection.SendAsync(args);
                if (!reply.IsError && followUp is not null) followUpReply = await connection.SendAsync(followUp);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidOperationException)
            {
                Forget(port);
                Retried++;
                port = cluster.Running.ElementAt(Retried % Math.Max(1, cluster.Running.Count())).Port;
                await Task.Delay(50);
                continue;
            }
            asking = false;
            if (!reply.IsError) return (reply, followUpReply);
            string error = reply.AsString()!;
            if (error.StartsWith("MOVED ", StringComparison.Ordinal))
            {
                Moved++;
                port = PortOf(error);
                continue;
            }
            if (error.StartsWith("ASK ", StringComparison.Ordinal))
            {
                Asked++;
                port = PortOf(error);
                asking = true;
                continue;
            }
            if (error.StartsWith("TRYAGAIN", StringComparison.Ordinal) || error.StartsWith("CLUSTERDOWN", StringComparison.Ordinal))
            {
                Retried++;
                await Task.Delay(50);
                continue;
            }
            return (reply, null);
        }
    }

    private static int PortOf(string redirect) => int.Parse(redirect[(redirect.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);

    private async Task<RespTestClient> ConnectAsync(int port)
    {
        if (_connections.TryGetValue(port, out var connection)) return connection;
        connection = await RespTestClient.ConnectAsync(port);
        _connections[port] = connection;
        return connection;
    }

    private void Forget(int port)
    {
        if (_connections.Remove(port, out var connection)) _ = connection.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections.Values) await connection.DisposeAsync();
    }
}
