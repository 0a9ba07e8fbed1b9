using System.Net.Sockets;
using System.Text;
using AkkaCache.Protocol;

namespace AkkaCache.Server.Network;

/// <summary>
/// <c>--cluster-proxy yes</c>: a client that is not cluster-aware talks to any node, and a request for a shard led
/// elsewhere is forwarded to its owner, whose reply is copied back unchanged (instead of -MOVED / -ASK). One
/// connection per owner per client session, opened on first use, so replies stay in the client's request order.
/// </summary>
internal sealed class ClusterProxy(string? password) : IAsyncDisposable
{
    private static readonly byte[] Asking = Encoding.ASCII.GetBytes("*1\r\n$6\r\nASKING\r\n");

    private readonly Dictionary<string, Peer> _peers = [];

    /// <summary>Sends <paramref name="request"/> (a whole RESP request) to <paramref name="endpoint"/> and writes its reply to <paramref name="writer"/>.</summary>
    public async ValueTask ForwardAsync(string endpoint, byte[] request, bool asking, RespWriter writer)
    {
        for (int attempt = 0; ; attempt++)
        {
            var peer = await GetAsync(endpoint);
            try
            {
                if (asking) await peer.SendAsync(Asking);
                await peer.SendAsync(request);
                if (asking) await peer.ReadReplyAsync(); // +OK
                var reply = await peer.ReadReplyAsync();
                writer.WriteRaw(reply.Span);
                return;
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                _peers.Remove(endpoint);
                await peer.DisposeAsync();
                if (attempt == 1)
                {
                    writer.WriteError($"CLUSTERDOWN The owner {endpoint} of this slot cannot be reached: {e.Message}");
                    return;
                }
            }
        }
    }

    private async ValueTask<Peer> GetAsync(string endpoint)
    {
        if (_peers.TryGetValue(endpoint, out var peer)) return peer;
        int colon = endpoint.LastIndexOf(':');
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint[..colon], int.Parse(endpoint.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        peer = new Peer(socket);
        if (password is not null)
        {
            await peer.SendAsync(RespRequestEncoder.Encode("AUTH", password));
            await peer.ReadReplyAsync();
        }
        _peers[endpoint] = peer;
        return peer;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var peer in _peers.Values) await peer.DisposeAsync();
        _peers.Clear();
    }

    private sealed class Peer(Socket socket) : IAsyncDisposable
    {
        private readonly RespReplyReader _replies = new(socket);

        public async ValueTask SendAsync(ReadOnlyMemory<byte> data)
        {
            while (data.Length > 0)
            {
                int sent = await socket.SendAsync(data, SocketFlags.None);
                data = data[sent..];
            }
        }

        /// <summary>The bytes of the next whole reply (valid until the next read).</summary>
        public ValueTask<ReadOnlyMemory<byte>> ReadReplyAsync() => _replies.ReadRawAsync();

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
