using System.Buffers;

namespace AkkaCache.Server.Network;

/// <summary>
/// The byte stream a <see cref="ClientSession"/> runs over, with a contiguous receive buffer and a reusable send buffer,
/// Garnet style: requests are parsed in place (no pipe segments to stitch together) and every reply of a batch goes out
/// in one send. Subclasses supply only the transport: a TCP socket (<see cref="SocketConnection"/>) or an in-process
/// duplex (<see cref="InProcessConnection"/>).
/// </summary>
internal abstract class ClientConnection : IBufferWriter<byte>, IDisposable
{
    private const int InitialReceiveSize = 16 * 1024;
    private const int InitialSendSize = 16 * 1024;
    // buffers grown for one big request or reply are given back once idle, so 10,000 idle clients stay small
    private const int RetainedBufferSize = 256 * 1024;

    private byte[] _receive = new byte[InitialReceiveSize];
    private int _start;
    private int _end;
    private byte[] _send = new byte[InitialSendSize];
    private int _sendLength;

    /// <summary>The peer as CLIENT LIST shows it (<c>addr</c>); unique among live clients, so CLIENT KILL ADDR can name it.</summary>
    public abstract string RemoteAddress { get; }

    /// <summary>This end as CLIENT LIST shows it (<c>laddr</c>).</summary>
    public abstract string LocalAddress { get; }

    /// <summary>Receives into <paramref name="buffer"/>: the count, 0 once the peer has closed or the connection was aborted.</summary>
    protected abstract ValueTask<int> ReceiveCoreAsync(Memory<byte> buffer, CancellationToken cancellation);

    /// <summary>Sends a prefix of <paramref name="data"/> (at least one byte); returns how many bytes went.</summary>
    protected abstract ValueTask<int> SendCoreAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation);

    /// <summary>Breaks the connection from any thread (CLIENT KILL, idle timeout): the session's receive ends, its sends fail.</summary>
    public abstract void Abort();

    /// <summary>Releases the transport; called once, after the session has ended.</summary>
    public abstract void Dispose();

    /// <summary>The received bytes not consumed yet.</summary>
    public ReadOnlyMemory<byte> Received => _receive.AsMemory(_start, _end - _start);

    /// <summary>
    /// Receives more bytes after what is buffered; the count (0 when the peer has closed) goes to <see cref="OnReceived"/>.
    /// Not an async method: the transport's own ValueTask is pooled, while a suspended async method would box its state
    /// machine on every request.
    /// </summary>
    public ValueTask<int> ReceiveAsync(long limit, CancellationToken cancellation)
    {
        if (_end == _receive.Length) MakeRoom(limit);
        return ReceiveCoreAsync(_receive.AsMemory(_end), cancellation);
    }

    public void OnReceived(int count) => _end += count;

    public void Consume(int bytes)
    {
        _start += bytes;
        if (_start < _end) return;
        _start = _end = 0;
        if (_receive.Length > RetainedBufferSize) _receive = new byte[InitialReceiveSize];
    }

    /// <summary>Moves the unfinished request to the front, or doubles the buffer when it fills it.</summary>
    private void MakeRoom(long limit)
    {
        int pending = _end - _start;
        if (_start > 0 && pending < _receive.Length / 2)
        {
            Buffer.BlockCopy(_receive, _start, _receive, 0, pending);
        }
        else
        {
            long size = Math.Min((long)_receive.Length * 2, Math.Max(limit + 1, InitialReceiveSize));
            if (size <= _receive.Length) size = _receive.Length + InitialReceiveSize; // the caller enforces the limit
            var grown = new byte[Math.Min(size, Array.MaxLength)];
            Buffer.BlockCopy(_receive, _start, grown, 0, pending);
            _receive = grown;
        }
        _start = 0;
        _end = pending;
    }

    public bool HasPendingReplies => _sendLength > 0;

    public int PendingReplyBytes => _sendLength;

    /// <summary>Sends the replies written so far. Usually the transport takes them at once and nothing is awaited.</summary>
    public ValueTask SendAsync(CancellationToken cancellation)
    {
        var send = SendCoreAsync(_send.AsMemory(0, _sendLength), cancellation);
        if (send.IsCompletedSuccessfully && send.Result == _sendLength)
        {
            SendCompleted();
            return ValueTask.CompletedTask;
        }
        return SendRestAsync(send, cancellation);
    }

    private async ValueTask SendRestAsync(ValueTask<int> pending, CancellationToken cancellation)
    {
        int sent = await pending;
        while (sent < _sendLength)
            sent += await SendCoreAsync(_send.AsMemory(sent, _sendLength - sent), cancellation);
        SendCompleted();
    }

    private void SendCompleted()
    {
        _sendLength = 0;
        if (_send.Length > RetainedBufferSize) _send = new byte[InitialSendSize];
    }

    public void Advance(int count) => _sendLength += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureSendRoom(sizeHint);
        return _send.AsMemory(_sendLength);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureSendRoom(sizeHint);
        return _send.AsSpan(_sendLength);
    }

    private void EnsureSendRoom(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_send.Length - _sendLength >= needed) return;
        long size = Math.Max((long)_send.Length * 2, (long)_sendLength + needed);
        Array.Resize(ref _send, (int)Math.Min(size, Array.MaxLength));
    }
}
