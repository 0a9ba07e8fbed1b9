using System.Net.Sockets;

namespace AkkaCache.Protocol;

/// <summary>
/// Reads whole replies from a socket (client side: node-to-node links, the proxy, the leader's questions): bytes are
/// buffered until <see cref="RespReplyParser"/> finds one complete reply, which is returned raw or parsed.
/// </summary>
public sealed class RespReplyReader(Socket socket)
{
    private byte[] _buffer = new byte[16 * 1024];
    private int _start, _end;

    /// <summary>The bytes of the next reply, valid until the next read; throws <see cref="IOException"/> when the peer closes or sends garbage.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadRawAsync(CancellationToken cancellation = default)
    {
        while (true)
        {
            if (_end > _start)
            {
                var status = RespReplyParser.TryParse(_buffer.AsSpan(_start, _end - _start), out _, out int consumed, out string? error);
                if (status == RespParseStatus.Error) throw new IOException("Malformed reply: " + error);
                if (status == RespParseStatus.Complete)
                {
                    var reply = _buffer.AsMemory(_start, consumed);
                    _start += consumed;
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
            if (_end > _start)
            {
                var status = RespReplyParser.TryParse(_buffer.AsSpan(_start, _end - _start), out var reply, out int consumed, out string? error);
                if (status == RespParseStatus.Error) throw new IOException("Malformed reply: " + error);
                if (status == RespParseStatus.Complete)
                {
                    _start += consumed;
                    return reply!;
                }
            }
            await FillAsync(cancellation);
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellation)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        int read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellation);
        if (read == 0) throw new IOException("The peer closed the connection.");
        _end += read;
    }
}
