using System.Net.Sockets;

namespace AkkaCache.Protocol;

/// <summary>
/// Reads whole replies from a socket (client side: node-to-node links, the proxy, the leader's questions): bytes are
/// buffered until <see cref="RespReplyParser"/> finds one complete reply, which is returned raw or parsed.
/// </summary>
public sealed class RespReplyReader(Socket socket)
{
    private readonly RespReceiveBuffer _buffer = new();

    /// <summary>The bytes of the next reply, valid until the next read; throws <see cref="IOException"/> when the peer closes or sends garbage.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadRawAsync(CancellationToken cancellation = default)
    {
        while (true)
        {
            if (_buffer.UnreadCount > 0)
            {
                var status = RespReplyParser.TryParse(_buffer.Unread, out _, out int consumed, out string? error);
                if (status == RespParseStatus.Error) throw new IOException("Malformed reply: " + error);
                if (status == RespParseStatus.Complete)
                {
                    var reply = _buffer.UnreadMemory[..consumed];
                    _buffer.Consume(consumed);
                    return reply;
                }
            }
            await FillAsync(cancellation);
        }
    }

    /// <summary>The next reply, parsed.</summary>
    public async ValueTask<RespValue> ReadAsync(CancellationToken cancellation = default)
    {
        while (true)
        {
            if (_buffer.UnreadCount > 0)
            {
                var status = RespReplyParser.TryParse(_buffer.Unread, out var reply, out int consumed, out string? error);
                if (status == RespParseStatus.Error) throw new IOException("Malformed reply: " + error);
                if (status == RespParseStatus.Complete)
                {
                    _buffer.Consume(consumed);
                    return reply!;
                }
            }
            await FillAsync(cancellation);
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellation)
    {
        int read = await socket.ReceiveAsync(_buffer.FreeSpace(), SocketFlags.None, cancellation);
        if (read == 0) throw new IOException("The peer closed the connection.");
        _buffer.Received(read);
    }
}
