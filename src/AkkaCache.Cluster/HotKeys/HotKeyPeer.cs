using AkkaCache.Cluster.Bus;
using AkkaCache.Protocol;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Cluster.HotKeys;

/// <summary>
/// One other member, seen both ways. As the owner of promoted keys, this node sends the peer their copies
/// (AC.HOTSET / AC.HOTDEL) on one ordered, pipelined connection; the peer's replies acknowledge them in order, and this
/// node tracks how long the peer may still serve copies of each session (its lease). As a holder of the
/// peer's copies, this node pings it on the same connection (AC.HOTPING) to renew its own lease on them.
/// </summary>
internal sealed class HotKeyPeer : PeerLink
{
    /// <summary>Messages a slow peer may have queued before they are dropped (and its session ends, so nothing is lost silently).</summary>
    private const int MaxPendingBytes = 64 * 1024 * 1024;

    private readonly HotKeyReplicator _replicator;
    private readonly Queue<InFlight> _inFlight = new();

    // the owner's side, under Gate
    private long _session;
    private long _sentSeq;
    private long _ackedSeq;
    private long _leaseEnd;         // until when the peer may serve copies of the current session
    private long _olderLeaseEnd;    // until when it may serve copies of any older session
    private bool _resyncPending = true;

    public HotKeyPeer(HotKeyReplicator replicator, string id, string host, int port, long firstSession)
        : base(id, host, port, replicator.Password, queueUntilConnected: false, replicator.Logger)
    {
        _replicator = replicator;
        _session = firstSession;
        Start();
    }

    protected override string Name => "hot-key link";
    protected override string WhileDown => "its copies of this node's hot keys lapse meanwhile";

    /// <summary>Whether every promoted key is to be sent again (a new session, a new connection); clears the request.</summary>
    public bool TakeResync()
    {
        lock (Gate)
        {
            bool pending = _resyncPending && !IsDown;
            if (pending) _resyncPending = false;
            return pending;
        }
    }

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
                HotKeyMessages.WriteSet(Pending, _replicator.SelfIdBytes, _session, key, value, version, expireAtMs);
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
                HotKeyMessages.WriteDelete(Pending, _replicator.SelfIdBytes, _session, key);
                Wake();
            }
            return (_session, seq);
        }
    }

    /// <summary>Under Gate: whether the message goes out; one that cannot (link down, queue full) is never acknowledged, so its barrier waits out the lease.</summary>
    private bool Admit(int size, long seq)
    {
        if (IsDown || Pending.WrittenCount + size > MaxPendingBytes) return false;
        _inFlight.Enqueue(new InFlight(seq, _replicator.Time.GetTimestamp(), null));
        return true;
    }

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
            if (IsDown) return null;
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
            if (IsDown) return;
            _inFlight.Enqueue(new InFlight(0, _replicator.Time.GetTimestamp(), owner));
            HotKeyMessages.WritePing(Pending, _replicator.SelfIdBytes, reads);
            Wake();
        }
    }

    // ------------------------------------------------------------------ the connection

    /// <summary>Whatever was queued for the previous connection may not have arrived: that session is over.</summary>
    protected override void OnConnected()
    {
        if (_sentSeq > 0) EndSessionLocked();
        _resyncPending = true;
    }

    protected override void OnDisconnected() => _inFlight.Clear();

    /// <summary>Matches the reply to the oldest message in flight: an acknowledgement, or a ping's answer.</summary>
    protected override void OnReply(ReadOnlySpan<byte> reply)
    {
        InFlight sent;
        lock (Gate)
        {
            if (!_inFlight.TryDequeue(out sent)) throw new InvalidOperationException("a reply nobody asked for");
            if (sent.PingOwner is null && reply[0] != (byte)'-') _ackedSeq = Math.Max(_ackedSeq, sent.Seq);
        }
        if (sent.PingOwner is { } owner)
        {
            if (reply[0] == (byte)':' && RespNumbers.TryParseInt64(reply[1..^2], out long session))
                _replicator.Copies.Renewed(owner, session, sent.SentAt + _replicator.HolderLeaseTicks);
        }
        else if (reply[0] == (byte)'-')
        {
            Logger.LogWarning("{PeerId} refused a hot-key copy: {Reply}", Id, System.Text.Encoding.UTF8.GetString(reply).TrimEnd());
        }
        else _replicator.OnAcknowledged();
    }

    /// <summary>A message or ping sent and not yet answered; <see cref="PingOwner"/> is set for a ping.</summary>
    private readonly record struct InFlight(long Seq, long SentAt, HotKeyOwner? PingOwner);
}
