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
        private byte[] _buffer = new byte[16 * 1024];
        private int _start, _end;

        public async ValueTask SendAsync(ReadOnlyMemory<byte> data)
        {
            while (data.Length > 0)
            {
                int sent = await socket.SendAsync(data, SocketFlags.None);
                data = data[sent..];
            }
        }

        /// <summary>The bytes of the next whole reply (valid until the next read).</summary>
        public async ValueTask<ReadOnlyMemory<byte>> ReadReplyAsync()
        {
            while (true)
            {
                if (_end > _start)
                {
                    var status = RespReplyParser.TryParse(_buffer.AsSpan(_start, _end - _start), out _, out int consumed, out string? error);
                    if (status == RespParseStatus.Error) throw new IOException("The owner sent a malformed reply: " + error);
                    if (status == RespParseStatus.Complete)
                    {
                        var reply = _buffer.AsMemory(_start, consumed);
                        _start += consumed;
                        return reply;
                    }
                }
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
                int read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None);
                if (read == 0) throw new IOException("The owner closed the connection.");
                _end += read;
            }
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
