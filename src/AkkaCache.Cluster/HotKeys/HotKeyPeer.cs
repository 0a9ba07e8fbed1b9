using System.Buffers;
using System.Net.Sockets;
using AkkaCache.Cluster.Bus;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.HotKeys;

/// <summary>
/// One other member, seen both ways. As the owner of promoted keys, this node sends the peer their copies
/// (AC.HOTSET / AC.HOTDEL) on one ordered, pipelined connection; the peer's replies acknowledge them in order, and this
/// node tracks how long the peer may still serve copies of each session (<see cref="LeaseEnd"/>). As a holder of the
/// peer's copies, this node pings it on the same connection (AC.HOTPING) to renew its own lease on them.
/// </summary>
internal sealed class HotKeyPeer : IAsyncDisposable
{
    /// <summary>Messages a slow peer may have queued before they are dropped (and its session ends, so nothing is lost silently).</summary>
    private const int MaxPendingBytes = 64 * 1024 * 1024;

    private readonly HotKeyReplicator _replicator;
    private readonly string _host;
    private readonly int _port;
    private readonly SendSignal _signal = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Queue<InFlight> _inFlight = new();
    private readonly Task _loop;
    private ArrayBufferWriter<byte> _pending = new(4096);
    private ArrayBufferWriter<byte> _sending = new(4096);
    private bool _down = true;
    private bool _reportedDown;

    // the owner's side, under Gate
    private long _session;
    private long _sentSeq;
    private long _ackedSeq;
    private long _leaseEnd;         // until when the peer may serve copies of the current session
    private long _olderLeaseEnd;    // until when it may serve copies of any older session

    public HotKeyPeer(HotKeyReplicator replicator, string id, string host, int port, long firstSession)
    {
        _replicator = replicator;
        Id = id;
        IdBytes = System.Text.Encoding.UTF8.GetBytes(id);
        _host = host;
        _port = port;
        Endpoint = $"{host}:{port}";
        _session = firstSession;
        _loop = Task.Run(RunAsync);
    }

    public string Id { get; }
    public byte[] IdBytes { get; }
    public string Endpoint { get; }
    internal object Gate { get; } = new();

    /// <summary>Set when the peer's copies may differ from the promoted keys: every promoted key is to be sent again.</summary>
    private bool _resyncPending = true;

    /// <summary>Whether every promoted key is to be sent again (a new session, a new connection); clears the request.</summary>
    public bool TakeResync()
    {
        lock (Gate)
        {
            bool pending = _resyncPending && !_down;
            if (pending) _resyncPending = false;
            return pending;
        }
    }

    public long Session { get { lock (Gate) return _session; } }

    // ------------------------------------------------------------------ owner side

    /// <summary>Queues a copy for the peer; returns the message's (session, sequence number) for a barrier.</summary>
    public (long Session, long Seq) EnqueueSet(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long version, long expireAtMs)
    {
        lock (Gate)
        {
            long seq = ++_sentSeq;
            int size = 64 + RespRequestEncoder.BulkLength(key.Length) + RespRequestEncoder.BulkLength(value.Length);
            if (Admit(size, seq))
            {
                HotKeyMessages.WriteSet(_pending, _replicator.SelfIdBytes, _session, key, value, version, expireAtMs);
                Wake();
            }
            return (_session, seq);
        }
    }

    public (long Session, long Seq) EnqueueDelete(ReadOnlySpan<byte> key)
    {
        lock (Gate)
        {
            long seq = ++_sentSeq;
            if (Admit(64 + RespRequestEncoder.BulkLength(key.Length), seq))
            {
                HotKeyMessages.WriteDelete(_pending, _replicator.SelfIdBytes, _session, key);
                Wake();
            }
            return (_session, seq);
        }
    }

    /// <summary>Under Gate: whether the message goes out; one that cannot (link down, queue full) is never acknowledged, so its barrier waits out the lease.</summary>
    private bool Admit(int size, long seq)
    {
        if (_down || _pending.WrittenCount + size > MaxPendingBytes) return false;
        _inFlight.Enqueue(new InFlight(seq, _replicator.Time.GetTimestamp(), null));
        return true;
    }

    /// <summary>Under Gate. SendSignal never runs the send loop on the caller's thread, so waking it under the lock is cheap.</summary>
    private void Wake() => _signal.Set();

    /// <summary>
    /// Whether the peer can no longer serve what the message (<paramref name="session"/>, <paramref name="seq"/>) replaced:
    /// it acknowledged it, or its lease on that session has run out. A lease that ran out ends the session, so a later
    /// ping cannot revive copies that may have missed the message. Otherwise <paramref name="retryAt"/> says when to look again.
    /// </summary>
    public bool HasPassed(long session, long seq, long now, out long retryAt)
    {
        retryAt = long.MaxValue;
        lock (Gate)
        {
            if (_session == session)
            {
                if (_ackedSeq >= seq) return true;
                if (now < _leaseEnd)
                {
                    retryAt = _leaseEnd;
                    return false;
                }
                EndSessionLocked();
                return true;
            }
            if (now >= _olderLeaseEnd) return true;
            retryAt = _olderLeaseEnd;
            return false;
        }
    }

    private void EndSessionLocked()
    {
        _olderLeaseEnd = Math.Max(_olderLeaseEnd, _leaseEnd);
        _leaseEnd = 0;
        _session++;
        _resyncPending = true;
        _replicator.CountSessionEnded();
    }

    /// <summary>
    /// The peer pinged (AC.HOTPING): it may serve this session's copies for one more lease from now. Refused (null) while
    /// this node cannot vouch for the peer's copies: the link to it is down or has messages unacknowledged for too long —
    /// then the peer's lease runs out and writes waiting on it go on.
    /// </summary>
    public long? AnswerPing(long now)
    {
        lock (Gate)
        {
            if (_down) return null;
            if (_inFlight.TryPeek(out var oldest) && now - oldest.SentAt > _replicator.AckTimeoutTicks) return null;
            _leaseEnd = Math.Max(_leaseEnd, now + _replicator.OwnerLeaseTicks);
            return _session;
        }
    }

    // ------------------------------------------------------------------ holder side

    /// <summary>Pings the peer, reporting the reads this node served of its copies since the last ping.</summary>
    public void Ping(HotKeyOwner owner, List<(byte[] Key, long Reads)> reads)
    {
        lock (Gate)
        {
            if (_down) return;
            _inFlight.Enqueue(new InFlight(0, _replicator.Time.GetTimestamp(), owner));
            HotKeyMessages.WritePing(_pending, _replicator.SelfIdBytes, reads);
            Wake();
        }
    }

    // ------------------------------------------------------------------ the connection

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(token);
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(_host, _port, token);
                var replies = new RespReplyReader(socket);
                if (_replicator.Password is { } password)
                {
                    await SendAsync(socket, RespRequestEncoder.Encode("AUTH", password), token);
                    var auth = await replies.ReadRawAsync(token);
                    if (auth.Length > 0 && auth.Span[0] == (byte)'-') throw new IOException("AUTH refused: " + System.Text.Encoding.UTF8.GetString(auth.Span).TrimEnd());
                }
                lock (Gate)
                {
                    // whatever was queued for the previous connection may not have arrived: that session is over
                    if (_sentSeq > 0) EndSessionLocked();
                    _down = false;
                    _resyncPending = true;
                }
                _reportedDown = false;
                var receive = ReceiveAsync(replies, connection);
                using var wakeOnEnd = connection.Token.UnsafeRegister(static signal => ((SendSignal)signal!).Set(), _signal);
                try
                {
                    while (true)
                    {
                        await _signal.WaitAsync();
                        connection.Token.ThrowIfCancellationRequested();
                        lock (Gate) (_pending, _sending) = (_sending, _pending);
                        if (_sending.WrittenCount == 0) continue;
                        await SendAsync(socket, _sending.WrittenMemory, connection.Token);
                        _sending.ResetWrittenCount();
                    }
                }
                finally
                {
                    connection.Cancel();
                    socket.Close();
                    await receive;
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                lock (Gate)
                {
                    _down = true;
                    _inFlight.Clear();
                    _pending.ResetWrittenCount();
                    _sending.ResetWrittenCount();
                }
                if (!_reportedDown)
                {
                    _reportedDown = true;
                    Console.Error.WriteLine($"akkacache: hot-key link to {Id} ({Endpoint}): {e.Message}; retrying, its copies of this node's hot keys lapse meanwhile");
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try { await Task.Delay(250, token); }
            catch (OperationCanceledException) { break; }
        }
        lock (Gate) _down = true;
    }

    /// <summary>Matches each reply to the oldest message in flight: an acknowledgement, or a ping's answer.</summary>
    private async Task ReceiveAsync(RespReplyReader replies, CancellationTokenSource connection)
    {
        try
        {
            while (true)
            {
                var reply = await replies.ReadRawAsync(connection.Token);
                InFlight sent;
                lock (Gate)
                {
                    if (!_inFlight.TryDequeue(out sent)) throw new IOException("a reply nobody asked for");
                    if (sent.PingOwner is null && reply.Span[0] != (byte)'-') _ackedSeq = Math.Max(_ackedSeq, sent.Seq);
                }
                if (sent.PingOwner is { } owner)
                {
                    if (reply.Span[0] == (byte)':' && RespNumbers.TryParseInt64(reply.Span[1..^2], out long session))
                        _replicator.Copies.Renewed(owner, session, sent.SentAt + _replicator.HolderLeaseTicks);
                }
                else if (reply.Span[0] == (byte)'-')
                {
                    Console.Error.WriteLine($"akkacache: {Id} refused a hot-key copy: {System.Text.Encoding.UTF8.GetString(reply.Span).TrimEnd()}");
                }
                else _replicator.OnAcknowledged();
            }
        }
        catch (Exception)
        {
            // closed or reset: the send loop reconnects
        }
        connection.Cancel();
    }

    private static async ValueTask SendAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (data.Length > 0)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, token);
            data = data[sent..];
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _signal.Set();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    /// <summary>A message or ping sent and not yet answered; <see cref="PingOwner"/> is set for a ping.</summary>
    private readonly record struct InFlight(long Seq, long SentAt, HotKeyOwner? PingOwner);
}
