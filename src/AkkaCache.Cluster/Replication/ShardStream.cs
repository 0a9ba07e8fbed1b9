using System.Buffers;

namespace AkkaCache.Cluster.Replication;

/// <summary>
/// The outgoing stream of one shard to one peer (a replica, or the node the shard migrates to). Writes on the shard
/// actor append encoded records here; the peer's link takes them in batches. The lock is this stream's own: shards
/// never share one.
/// </summary>
internal sealed class ShardStream(int shard, ReplicationLink link, bool isMigration)
{
    /// <summary>Records pending for a slow peer before the stream gives up and resyncs it from a snapshot.</summary>
    public const int MaxPendingBytes = 32 * 1024 * 1024;

    private readonly object _gate = new();
    private ArrayBufferWriter<byte> _pending = new(4096);
    private ArrayBufferWriter<byte> _spare = new(4096);
    private long _pendingSeq;
    private bool _capturing;
    private long _ackedSeq = -1;
    internal int Queued;

    public int Shard { get; } = shard;
    public ReplicationLink Link { get; } = link;
    public bool IsMigration { get; } = isMigration;

    /// <summary>Set when the peer needs a full snapshot: at start, after a reconnect, an overflow, or a rejection.</summary>
    public volatile bool NeedsSync = true;

    /// <summary>No longer wanted by the map; the link drops it.</summary>
    public volatile bool Removed;

    /// <summary>The sequence number of the snapshot the peer was last synced from; acks below it do not count as caught up.</summary>
    public long SnapshotSeq { get; set; } = long.MaxValue;

    /// <summary>Ask the link to send a mark even if no record is pending (hand-off waits for the peer to confirm).</summary>
    public volatile bool MarkRequested;

    public long AckedSeq => Volatile.Read(ref _ackedSeq);

    private TaskCompletionSource<bool>? _syncAnswer;

    /// <summary>Before a snapshot: completes with whether the peer follows us for this shard (a refused snapshot would be sent in vain).</summary>
    public Task<bool> AskToSync()
    {
        var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _syncAnswer, answer);
        return answer.Task;
    }

    public void AnswerSync(bool accepted) => Interlocked.Exchange(ref _syncAnswer, null)?.TrySetResult(accepted);

    public bool IsSynced => AckedSeq >= SnapshotSeq;

    public void Acknowledge(long seq)
    {
        long current = Volatile.Read(ref _ackedSeq);
        while (seq > current)
        {
            long seen = Interlocked.CompareExchange(ref _ackedSeq, seq, current);
            if (seen == current) break;
            current = seen;
        }
    }

    /// <summary>Called on the shard actor when a snapshot starts: from now on every write is captured.</summary>
    public void StartCapture(long snapshotSeq)
    {
        lock (_gate)
        {
            _pending.ResetWrittenCount();
            _pendingSeq = snapshotSeq;
            _capturing = true;
        }
        SnapshotSeq = snapshotSeq;
        Volatile.Write(ref _ackedSeq, -1);
    }

    public void StopCapture()
    {
        lock (_gate)
        {
            _capturing = false;
            _pending.ResetWrittenCount();
        }
    }

    public void AppendSet(long seq, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAtMs)
    {
        lock (_gate)
        {
            if (!_capturing) return;
            ReplicationCommands.WriteSet(_pending, Shard, seq, key, value, expireAtMs);
            AfterAppend(seq);
        }
        Link.Signal(this);
    }

    public void AppendDelete(long seq, ReadOnlySpan<byte> key)
    {
        lock (_gate)
        {
            if (!_capturing) return;
            ReplicationCommands.WriteDelete(_pending, Shard, seq, key);
            AfterAppend(seq);
        }
        Link.Signal(this);
    }

    public void AppendClear(long seq)
    {
        lock (_gate)
        {
            if (!_capturing) return;
            ReplicationCommands.WriteClear(_pending, Shard, seq);
            AfterAppend(seq);
        }
        Link.Signal(this);
    }

    private void AfterAppend(long seq)
    {
        _pendingSeq = seq;
        if (_pending.WrittenCount <= MaxPendingBytes) return;
        // the peer cannot keep up: forget the backlog and send it a fresh snapshot instead
        _capturing = false;
        _pending.ResetWrittenCount();
        NeedsSync = true;
    }

    /// <summary>Moves the pending records into <paramref name="output"/>; returns the sequence number they reach, or -1 if none were pending.</summary>
    public long TakePending(IBufferWriter<byte> output)
    {
        ArrayBufferWriter<byte> taken;
        long seq;
        lock (_gate)
        {
            if (!_capturing) return -1;
            seq = _pendingSeq;
            if (_pending.WrittenCount == 0) return MarkRequested ? seq : -1;
            taken = _pending;
            _pending = _spare;
            _spare = taken;
        }
        // copied outside the lock: the shard actor appends into the other buffer meanwhile
        output.Write(taken.WrittenSpan);
        taken.ResetWrittenCount();
        return seq;
    }
}
