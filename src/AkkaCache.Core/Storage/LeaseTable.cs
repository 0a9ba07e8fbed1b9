using AkkaCache.Protocol;

namespace AkkaCache.Core.Storage;

/// <summary>
/// Fill leases of one shard (memcached at Facebook): the first reader to miss a key gets a token, and only that token
/// may fill the key, as long as nothing else wrote or deleted the key meanwhile. The owning <see cref="EntryTable"/>
/// drops a key's lease on every insert, rewrite, expiry change and removal, so every write path (commands,
/// replication, expiry, eviction, flush) invalidates it without knowing leases exist.
/// Not thread-safe: only the owning shard actor touches it.
/// </summary>
public sealed class LeaseTable
{
    /// <summary>Leases one shard holds at most; beyond it the oldest is dropped (its holder's fill is then refused, which is safe).</summary>
    public const int DefaultMaxLeases = 4096;

    /// <summary>Key bytes the leases of one shard hold at most (keys may be large); beyond it the oldest is dropped too.</summary>
    public const long MaxLeaseBytes = 1 << 20;

    private readonly Dictionary<byte[], Lease> _leases = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], Lease>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;
    // creation order, for dropping the oldest; may hold entries whose lease is gone already (checked by token).
    // Memory is counted per queue entry, not per live lease: a dead entry still holds its key array.
    private readonly Queue<(byte[] Key, long Token)> _order = new();
    private readonly int _maxLeases;
    // one sequence for the process, not per shard: a token is then never valid for another key by accident, and
    // starting from the wall clock makes a token from before a restart or failover unlikely to be issued again
    private static long s_lastToken = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 16;

    private readonly record struct Lease(long Token, long ExpireAtMs);

    /// <summary>Stale values one shard keeps at most, by count and by key + value bytes; beyond either the oldest go.</summary>
    public const int MaxStaleValues = 1024;
    public const long MaxStaleBytes = 1 << 20;

    private readonly Dictionary<byte[], Stale> _stale = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], Stale>.AlternateLookup<ReadOnlySpan<byte>> _staleBySpan;
    // as _order: bytes are counted while the queue holds the arrays
    private readonly Queue<(byte[] Key, byte[] Value)> _staleOrder = new();
    private readonly Action<long> _account;
    private long _staleBytes;
    private long _leaseBytes;

    private readonly record struct Stale(byte[] Value, long ExpireAtMs);

    /// <param name="account">Told of the bytes leases and stale values take and give back (the node's memory budget counts them).</param>
    public LeaseTable(int maxLeases = DefaultMaxLeases, Action<long>? account = null)
    {
        _bySpan = _leases.GetAlternateLookup<ReadOnlySpan<byte>>();
        _staleBySpan = _stale.GetAlternateLookup<ReadOnlySpan<byte>>();
        _account = account ?? (_ => { });
        _maxLeases = Math.Max(1, maxLeases);
    }

    public int Count => _leases.Count;
    /// <summary>Bytes the lease keys hold (those of leases already gone included, until the order queue lets them go).</summary>
    public long LeaseBytes => _leaseBytes;

    /// <summary>Nothing to invalidate or drop: what the entry table's write paths test before anything else.</summary>
    public bool IsEmpty => _leases.Count == 0 && _stale.Count == 0;

    public int StaleCount => _stale.Count;
    public long StaleBytes => _staleBytes;

    /// <summary>
    /// Keeps a just-deleted or just-expired value until <paramref name="expireAtMs"/>, for AC.GETL to give callers
    /// waiting on a lease (memcached's stale items) instead of nothing.
    /// </summary>
    public void KeepStale(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAtMs)
    {
        long cost = StaleCost(key.Length, value.Length);
        if (cost > MaxStaleBytes) return;
        DropStale(key);
        var keyCopy = key.ToArray();
        var valueCopy = value.ToArray();
        _stale[keyCopy] = new Stale(valueCopy, expireAtMs);
        _staleOrder.Enqueue((keyCopy, valueCopy));
        _staleBytes += cost;
        _account(cost);
        while (_staleOrder.TryPeek(out var head) && (_staleOrder.Count > MaxStaleValues || _staleBytes > MaxStaleBytes || !IsCurrent(head)))
        {
            _staleOrder.Dequeue();
            if (IsCurrent(head)) _stale.Remove(head.Key);
            Release(ref _staleBytes, StaleCost(head.Key.Length, head.Value.Length));
        }
    }

    /// <summary>The stale value of <paramref name="key"/> if one is kept and still due to be served.</summary>
    public bool TryGetStale(ReadOnlySpan<byte> key, long nowMs, out byte[] value)
    {
        value = [];
        if (_stale.Count == 0 || !_staleBySpan.TryGetValue(key, out byte[]? stored, out var stale)) return false;
        if (stale.ExpireAtMs <= nowMs)
        {
            RemoveStale(stored);
            return false;
        }
        value = stale.Value;
        return true;
    }

    /// <summary>Drops the key's stale value: it has a fresh one.</summary>
    public void DropStale(ReadOnlySpan<byte> key)
    {
        if (_stale.Count != 0 && _staleBySpan.TryGetValue(key, out byte[]? stored, out _)) RemoveStale(stored);
    }

    private bool IsCurrent((byte[] Key, byte[] Value) entry) => _stale.TryGetValue(entry.Key, out var stale) && ReferenceEquals(stale.Value, entry.Value);

    private void RemoveStale(byte[] key)
    {
        _stale.Remove(key);
        if (_stale.Count != 0) return;
        // nothing live: the queue's arrays can all go now rather than when pushed out
        _staleOrder.Clear();
        Release(ref _staleBytes, _staleBytes);
    }

    private void Release(ref long bytes, long cost)
    {
        bytes -= cost;
        _account(-cost);
    }

    // two arrays' headers besides the bytes
    private static long StaleCost(int keyLength, int valueLength) => keyLength + valueLength + 48;

    /// <summary>Leases dropped because the table was full.</summary>
    public long Dropped { get; private set; }

    /// <summary>
    /// The live lease of <paramref name="key"/> (<paramref name="created"/> false), or a new one if there is none or it
    /// has expired (<paramref name="created"/> true). Returns its token.
    /// </summary>
    public long Acquire(ReadOnlySpan<byte> key, long leaseMs, long nowMs, out bool created)
    {
        long expireAt = leaseMs > long.MaxValue - nowMs ? long.MaxValue : nowMs + leaseMs;
        if (_bySpan.TryGetValue(key, out byte[]? stored, out var lease))
        {
            if (lease.ExpireAtMs > nowMs)
            {
                created = false;
                return lease.Token;
            }
        }
        else
        {
            stored = key.ToArray();
        }
        created = true;
        long token = Interlocked.Increment(ref s_lastToken);
        _leases[stored] = new Lease(token, expireAt);
        _order.Enqueue((stored, token));
        long cost = LeaseCost(stored.Length);
        _leaseBytes += cost;
        _account(cost);
        Trim(nowMs);
        return token;
    }

    /// <summary>Whether <paramref name="token"/> is the live lease of <paramref name="key"/>.</summary>
    public bool IsValid(ReadOnlySpan<byte> key, long token, long nowMs)
        => _leases.Count != 0 && _bySpan.TryGetValue(key, out var lease) && lease.Token == token && lease.ExpireAtMs > nowMs;

    /// <summary>Drops the key's lease, if any.</summary>
    public void Invalidate(ReadOnlySpan<byte> key)
    {
        if (!_bySpan.Remove(key) || _leases.Count != 0) return;
        // nothing live: the queue's arrays can all go now rather than when pushed out
        _order.Clear();
        Release(ref _leaseBytes, _leaseBytes);
    }

    // the key array and a dictionary slot besides the key bytes
    private static long LeaseCost(int keyLength) => keyLength + 64;

    /// <summary>Drops every lease and stale value (FLUSHALL); the caller gives the memory back with its own.</summary>
    public void Clear()
    {
        _leases.Clear();
        _order.Clear();
        _leaseBytes = 0;
        _stale.Clear();
        _staleOrder.Clear();
        _staleBytes = 0;
    }

    private void Trim(long nowMs)
    {
        while (_order.TryPeek(out var head))
        {
            bool current = _leases.TryGetValue(head.Key, out var lease) && lease.Token == head.Token;
            if (current && _order.Count <= _maxLeases && _leaseBytes <= MaxLeaseBytes && lease.ExpireAtMs > nowMs) return;
            _order.Dequeue();
            Release(ref _leaseBytes, LeaseCost(head.Key.Length));
            if (!current) continue;
            _leases.Remove(head.Key);
            if (lease.ExpireAtMs > nowMs) Dropped++;
        }
    }
}
