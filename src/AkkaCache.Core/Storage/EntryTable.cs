using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using AkkaCache.Core.Eviction;
using AkkaCache.Core.Expiry;

namespace AkkaCache.Core.Storage;

public enum WriteStatus
{
    Ok,
    /// <summary>The budget is spent and the policy cannot (noeviction) or has nothing left to evict.</summary>
    OutOfMemory,
}

public enum RemovalCause { Deleted, Expired, Evicted }

/// <summary>
/// The entries of one shard: an open hash table over dense int ids, with keys and values packed into one byte arena.
/// A key costs a fixed-size struct in one array plus its bytes in the arena, so ten million keys are a few dozen
/// large arrays to the GC instead of tens of millions of objects.
/// Not thread-safe: only the owning shard actor touches it.
/// </summary>
/// <remarks>
/// Arena records are <c>[int id][int recordLength][key][value]</c>. A removed or relocated record is marked dead
/// (id = -1) and counted as garbage; compaction slides live records down in place, so it allocates nothing.
/// The arena grows only when the garbage would not make room, and growth asks the node's <see cref="MemoryBudget"/>.
/// </remarks>
public sealed class EntryTable
{
    private struct Entry
    {
        public int Next;        // next id in the bucket chain, or in the free list
        public int Offset;      // record offset in the arena; -1 when the id is free
        public int KeyLength;
        public int ValueLength;
        public long ExpireAtMs; // absolute unix ms; 0 = no expiry
        public long Version;    // changes on every write, for WATCH and AC.CAS
    }

    private const int RecordHeaderSize = 8;
    private const int InitialIdCapacity = 16; // the policy and timer arrays start at 16 too
    private const int InitialArenaSize = 1024;
    private const int MaxArenaSize = 0x7FFFFFC7; // Array.MaxLength

    private const int TimerBytesPerId = 8;

    private static readonly int EntrySize = Unsafe.SizeOf<Entry>();

    private readonly MemoryBudget _budget;
    private readonly TimerWheel _wheel;
    private readonly LeaseTable _leases;
    private EvictionPolicy _policy;

    private Entry[] _entries = [];
    private int[] _buckets = [];
    private int _bucketMask;
    private int _highWater;   // ids [0, _highWater) have been handed out at least once
    private int _freeList = -1;
    private int _count;

    private byte[] _arena = [];
    private int _arenaUsed;
    private long _liveRecordBytes;

    private long _versionCounter;
    private long _allocated;
    private int _bytesPerId; // entry struct, bucket, eviction-policy and timer-wheel arrays

    public EntryTable(MemoryBudget budget, EvictionPolicyKind policy, long nowMs)
    {
        _budget = budget;
        _wheel = new TimerWheel(nowMs);
        _leases = new LeaseTable(account: Account);
        _policy = EvictionPolicy.Create(policy, long.MaxValue);
        _bytesPerId = BytesPerId(policy);
        AllocateInitial();
    }

    public int Count => _count;

    /// <summary>Told of expirations and evictions (not of deletes: the command that deletes knows already); null = nobody listens.</summary>
    public IRemovalListener? RemovalListener { get; set; }
    public long Hits { get; private set; }
    public long Misses { get; private set; }
    public long ExpiredCount { get; private set; }
    public long EvictedCount { get; private set; }

    /// <summary>
    /// Keys created so far. WATCH of an absent key compares it: an absent key has no version, and one created and
    /// deleted again in between would otherwise look untouched.
    /// </summary>
    public long Insertions { get; private set; }
    public int VolatileCount => _wheel.Count;

    /// <summary>Real bytes this table holds: the entry, bucket and policy arrays and the arena, slack included.</summary>
    public long AllocatedBytes => _allocated;

    /// <summary>Bytes of live keys, values and their fixed per-key overhead; the arena slack and garbage are the difference to <see cref="AllocatedBytes"/>.</summary>
    public long LiveBytes => _liveRecordBytes + (long)_count * _bytesPerId;

    public EvictionPolicyKind PolicyKind => _policy.Kind;

    /// <summary>The shard's fill leases (AC.GETL / AC.SETL); every write to a key here drops its lease.</summary>
    public LeaseTable Leases => _leases;

    /// <summary>
    /// How long a deleted or expired value is kept for AC.GETL to serve as STALE to callers waiting on a lease;
    /// 0 (default) keeps none. Costs a copy of every deleted or expired value while on.
    /// </summary>
    public long LeaseStaleMs { get; set; }

    // the latest time a caller gave: removals that are not told the time (Remove, the wheel) date stale values by it
    private long _nowMs;

    public static uint Hash(ReadOnlySpan<byte> key)
    {
        var hash = new HashCode();
        hash.AddBytes(key);
        return (uint)hash.ToHashCode();
    }

    // ---------------------------------------------------------------- lookups

    /// <summary>Finds a live entry without counting a hit or touching the eviction order; removes it if it has expired.</summary>
    public int Find(ReadOnlySpan<byte> key, uint hash, long nowMs)
    {
        _nowMs = nowMs;
        int id = Lookup(key, hash);
        if (id >= 0 && IsExpired(id, nowMs))
        {
            Remove(id, RemovalCause.Expired);
            return -1;
        }
        return id;
    }

    /// <summary>A read: like <see cref="Find"/>, and counts a keyspace hit or miss and an access for the eviction policy.</summary>
    public int FindForRead(ReadOnlySpan<byte> key, uint hash, long nowMs)
    {
        int id = Find(key, hash, nowMs);
        if (id >= 0)
        {
            Hits++;
            _policy.OnAccess(id);
        }
        else
        {
            Misses++;
            _policy.OnMiss(hash);
        }
        return id;
    }

    public bool IsExpired(int id, long nowMs)
    {
        long expireAt = _entries[id].ExpireAtMs;
        return expireAt != 0 && expireAt <= nowMs;
    }

    public ReadOnlySpan<byte> Key(int id)
    {
        ref Entry e = ref _entries[id];
        return new ReadOnlySpan<byte>(_arena, e.Offset + RecordHeaderSize, e.KeyLength);
    }

    public ReadOnlySpan<byte> Value(int id)
    {
        ref Entry e = ref _entries[id];
        return new ReadOnlySpan<byte>(_arena, e.Offset + RecordHeaderSize + e.KeyLength, e.ValueLength);
    }

    public int ValueLength(int id) => _entries[id].ValueLength;
    public long ExpireAt(int id) => _entries[id].ExpireAtMs;
    public long Version(int id) => _entries[id].Version;
    public int Frequency(int id) => _policy.Frequency(id);

    /// <summary>The next live id at or after <paramref name="fromId"/>, or -1. Ids of entries that stay present do not change, which is what SCAN needs.</summary>
    public int NextLiveId(int fromId)
    {
        for (int id = Math.Max(fromId, 0); id < _highWater; id++)
            if (_entries[id].Offset >= 0) return id;
        return -1;
    }

    /// <summary>A live id picked at random (probing a bounded number of slots), or -1 if the table is empty.</summary>
    public int RandomLiveId(Random random)
    {
        if (_count == 0) return -1;
        for (int attempt = 0; attempt < 64; attempt++)
        {
            int id = random.Next(_highWater);
            if (_entries[id].Offset >= 0) return id;
        }
        // a sparse table: take the next live id after a random start, wrapping around
        int after = NextLiveId(random.Next(_highWater));
        return after >= 0 ? after : NextLiveId(0);
    }

    // ---------------------------------------------------------------- writes

    /// <summary>Writes a value, creating the entry or replacing its value and expiry. The version always changes.</summary>
    public WriteStatus Set(ReadOnlySpan<byte> key, uint hash, ReadOnlySpan<byte> value, long expireAtMs, long nowMs, out int id)
    {
        id = Find(key, hash, nowMs);
        return id >= 0 ? Replace(id, value, expireAtMs) : Insert(key, hash, value, expireAtMs, out id);
    }

    /// <summary>Replaces the value and expiry of a live entry the caller has already found.</summary>
    public WriteStatus Replace(int id, ReadOnlySpan<byte> value, long expireAtMs)
    {
        var status = ReplaceValue(id, value.Length, preserve: 0, out var target);
        if (status != WriteStatus.Ok) return status;
        value.CopyTo(target);
        SetExpireAtCore(id, expireAtMs);
        _policy.OnUpdate(id, Weight(id), expireAtMs);
        return WriteStatus.Ok;
    }

    /// <summary>Creates an entry for a key known to be absent.</summary>
    public WriteStatus Insert(ReadOnlySpan<byte> key, uint hash, ReadOnlySpan<byte> value, long expireAtMs, out int id)
    {
        id = -1;
        if (!_leases.IsEmpty)
        {
            _leases.Invalidate(key);
            _leases.DropStale(key);
        }
        int recordLength = RecordHeaderSize + key.Length + value.Length;
        if (!EnsureArenaRoom(recordLength, protectedId: -1)) return WriteStatus.OutOfMemory;
        int newId = AllocateId();
        if (newId < 0) return WriteStatus.OutOfMemory;
        // allocating the id may have evicted and compacted, but never consumes arena room
        int offset = AppendRecord(newId, recordLength);
        key.CopyTo(_arena.AsSpan(offset + RecordHeaderSize));
        value.CopyTo(_arena.AsSpan(offset + RecordHeaderSize + key.Length));

        ref Entry e = ref _entries[newId];
        e.Offset = offset;
        e.KeyLength = key.Length;
        e.ValueLength = value.Length;
        e.ExpireAtMs = 0;
        e.Version = ++_versionCounter;
        _liveRecordBytes += recordLength;
        _count++;
        Insertions++;
        LinkBucket(newId, hash);
        if (expireAtMs != 0) SetExpireAtCore(newId, expireAtMs);
        _policy.OnInsert(newId, hash, Weight(newId), expireAtMs);
        id = newId;
        return WriteStatus.Ok;
    }

    /// <summary>
    /// Gives the entry a value of <paramref name="newLength"/> bytes whose first <paramref name="preserve"/> bytes are the old value's,
    /// and returns it to be filled. For APPEND, SETRANGE and INCR. The version changes; the expiry is kept.
    /// </summary>
    public WriteStatus ResizeValue(int id, int newLength, int preserve, out Span<byte> value)
    {
        var status = ReplaceValue(id, newLength, preserve, out value);
        if (status == WriteStatus.Ok) _policy.OnUpdate(id, Weight(id), _entries[id].ExpireAtMs);
        return status;
    }

    public void SetExpireAt(int id, long expireAtMs)
    {
        if (_entries[id].ExpireAtMs == expireAtMs) return;
        InvalidateLease(id);
        SetExpireAtCore(id, expireAtMs);
        _entries[id].Version = ++_versionCounter;
        _policy.OnUpdate(id, Weight(id), expireAtMs);
    }

    /// <summary>Counts an access for the eviction order without reading (TOUCH).</summary>
    public void Access(int id) => _policy.OnAccess(id);

    public bool Delete(ReadOnlySpan<byte> key, uint hash, long nowMs)
    {
        int id = Find(key, hash, nowMs);
        if (id < 0)
        {
            // a DEL of an absent key is the usual invalidation after a backing-store update: a filler holding a
            // lease may have read the old data, so its fill must be refused
            if (_leases.Count != 0) _leases.Invalidate(key);
            return false;
        }
        Remove(id, RemovalCause.Deleted);
        return true;
    }

    public void Remove(int id, RemovalCause cause)
    {
        _wheel.Cancel(id);
        RemoveCore(id, cause);
    }

    /// <summary>Removes every entry and gives the memory back.</summary>
    public void Clear()
    {
        _policy.Clear();
        _wheel.Clear();
        _leases.Clear();
        _budget.Add(-_allocated);
        _allocated = 0;
        _count = 0;
        _freeList = -1;
        _highWater = 0;
        _liveRecordBytes = 0;
        _arenaUsed = 0;
        AllocateInitial();
    }

    /// <summary>Expires due entries through the timer wheel, at most <paramref name="maxExpirations"/> of them.</summary>
    public int ExpireDue(long nowMs, int maxExpirations)
    {
        _nowMs = nowMs;
        var sink = new ExpirySink(this);
        return _wheel.Advance(nowMs, maxExpirations, ref sink);
    }

    /// <summary>Switches the eviction policy; the new policy learns the live entries in id order.</summary>
    public void ChangePolicy(EvictionPolicyKind kind)
    {
        if (kind == _policy.Kind) return;
        var policy = EvictionPolicy.Create(kind, _policy.MaximumWeight);
        policy.EnsureCapacity(_entries.Length);
        for (int id = 0; id < _highWater; id++)
        {
            if (_entries[id].Offset < 0) continue;
            policy.OnInsert(id, Hash(Key(id)), Weight(id), _entries[id].ExpireAtMs);
        }
        _policy = policy;
        int bytesPerId = BytesPerId(kind);
        Account((long)(bytesPerId - _bytesPerId) * _entries.Length);
        _bytesPerId = bytesPerId;
    }

    /// <summary>Real bytes each id slot costs under a policy (the policies document their per-id arrays; the LFU sketch is about 8 more).</summary>
    private static int BytesPerId(EvictionPolicyKind kind) => EntrySize + sizeof(int) + TimerBytesPerId + kind switch
    {
        EvictionPolicyKind.NoEviction => 0,
        EvictionPolicyKind.AllKeysLru or EvictionPolicyKind.VolatileLru or EvictionPolicyKind.AllKeysRandom or EvictionPolicyKind.VolatileRandom => 8,
        EvictionPolicyKind.VolatileTtl => 16,
        EvictionPolicyKind.VolatileLfu => 24,
        _ => 28, // allkeys-lfu: 17 in its arrays, rounded to what the sketch adds
    };

    /// <summary>Evicts until this table holds no more than <paramref name="targetAllocatedBytes"/> of live data, then gives unused arena back.</summary>
    public int EvictDownTo(long targetLiveBytes)
    {
        int evicted = 0;
        while (LiveBytes > targetLiveBytes)
        {
            int victim = _policy.SelectVictim();
            if (victim < 0) break;
            Remove(victim, RemovalCause.Evicted);
            evicted++;
        }
        if (evicted > 0) ShrinkArena();
        return evicted;
    }

    // ---------------------------------------------------------------- internals

    private long Weight(int id)
    {
        ref Entry e = ref _entries[id];
        return RecordHeaderSize + e.KeyLength + e.ValueLength + _bytesPerId;
    }

    private int Lookup(ReadOnlySpan<byte> key, uint hash)
    {
        var entries = _entries;
        var arena = _arena;
        int id = _buckets[(int)hash & _bucketMask];
        while (id >= 0)
        {
            ref Entry e = ref entries[id];
            if (e.KeyLength == key.Length &&
                new ReadOnlySpan<byte>(arena, e.Offset + RecordHeaderSize, e.KeyLength).SequenceEqual(key))
                return id;
            id = e.Next;
        }
        return -1;
    }

    private void SetExpireAtCore(int id, long expireAtMs)
    {
        _entries[id].ExpireAtMs = expireAtMs;
        if (expireAtMs != 0) _wheel.Schedule(id, expireAtMs);
        else _wheel.Cancel(id);
    }

    private void RemoveCore(int id, RemovalCause cause)
    {
        if (cause != RemovalCause.Deleted && RemovalListener is { } listener) listener.OnRemoved(Key(id), cause);
        ref Entry e = ref _entries[id];
        InvalidateLease(id);
        if (LeaseStaleMs > 0 && cause != RemovalCause.Evicted) _leases.KeepStale(Key(id), Value(id), _nowMs + LeaseStaleMs);
        UnlinkBucket(id, Hash(Key(id)));
        MarkDead(e.Offset);
        _liveRecordBytes -= RecordHeaderSize + e.KeyLength + e.ValueLength;
        // slack inside a record (a value that shrank in place) was never live; the whole record is garbage now
        _policy.OnRemove(id);
        e.Offset = -1;
        e.KeyLength = 0;
        e.ValueLength = 0;
        e.ExpireAtMs = 0;
        e.Next = _freeList;
        _freeList = id;
        _count--;
        switch (cause)
        {
            case RemovalCause.Expired: ExpiredCount++; break;
            case RemovalCause.Evicted: EvictedCount++; break;
        }
    }

    private WriteStatus ReplaceValue(int id, int newLength, int preserve, out Span<byte> value)
    {
        InvalidateLease(id);
        ref Entry e = ref _entries[id];
        int capacity = RecordLengthAt(e.Offset) - RecordHeaderSize - e.KeyLength;
        if (newLength <= capacity)
        {
            _liveRecordBytes += newLength - e.ValueLength;
            e.ValueLength = newLength;
            e.Version = ++_versionCounter;
            value = _arena.AsSpan(e.Offset + RecordHeaderSize + e.KeyLength, newLength);
            return WriteStatus.Ok;
        }

        int recordLength = RecordHeaderSize + e.KeyLength + newLength;
        // the entry being rewritten must not be evicted to make its own room
        _policy.OnAccess(id);
        if (!EnsureArenaRoom(recordLength, protectedId: id))
        {
            value = default;
            return WriteStatus.OutOfMemory;
        }
        int offset = AppendRecord(id, recordLength);
        int oldOffset = e.Offset;
        _arena.AsSpan(oldOffset + RecordHeaderSize, e.KeyLength + Math.Min(preserve, e.ValueLength))
            .CopyTo(_arena.AsSpan(offset + RecordHeaderSize));
        MarkDead(oldOffset);
        _liveRecordBytes += newLength - e.ValueLength;
        e.Offset = offset;
        e.ValueLength = newLength;
        e.Version = ++_versionCounter;
        value = _arena.AsSpan(offset + RecordHeaderSize + e.KeyLength, newLength);
        return WriteStatus.Ok;
    }

    // the count test keeps writes free of a hash lookup while no lease exists (the common case)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void InvalidateLease(int id)
    {
        if (_leases.Count != 0) _leases.Invalidate(Key(id));
    }

    private int RecordLengthAt(int offset) => BinaryPrimitives.ReadInt32LittleEndian(_arena.AsSpan(offset + 4));

    private void MarkDead(int offset) => BinaryPrimitives.WriteInt32LittleEndian(_arena.AsSpan(offset), -1);

    private int AppendRecord(int id, int recordLength)
    {
        int offset = _arenaUsed;
        var header = _arena.AsSpan(offset, RecordHeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(header, id);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], recordLength);
        _arenaUsed += recordLength;
        return offset;
    }

    private long Garbage => _arenaUsed - _liveRecordBytes;

    /// <summary>Makes <paramref name="recordLength"/> contiguous bytes free at the end of the arena: compacting, evicting or growing.</summary>
    private bool EnsureArenaRoom(int recordLength, int protectedId)
    {
        if (_arena.Length - _arenaUsed >= recordLength) return true;

        // reclaim garbage before asking for memory, once it is worth a pass over the arena
        if (_arena.Length - _liveRecordBytes >= recordLength && Garbage * 4 >= _arena.Length)
        {
            Compact();
            return true;
        }

        long live = _liveRecordBytes;
        // grow by a quarter: the free tail is memory a key does not use, so it is kept small (bytes per key are measured)
        long wanted = Math.Max(live + recordLength + (live >> 3), (long)_arena.Length + (_arena.Length >> 2));
        wanted = Math.Clamp(wanted, InitialArenaSize, MaxArenaSize);
        if (wanted < live + recordLength) return false; // beyond what one array can hold

        if (_budget.CanGrow(wanted - _arena.Length))
        {
            Reallocate((int)wanted);
            return true;
        }
        long minimal = live + recordLength;
        if (minimal > _arena.Length && _budget.CanGrow(minimal - _arena.Length))
        {
            Reallocate((int)minimal);
            return true;
        }

        // the node is at its budget: make room from this shard's own entries
        int victim = -1;
        while (_arena.Length - _liveRecordBytes < recordLength)
        {
            victim = _policy.SelectVictim();
            if (victim < 0 || victim == protectedId) break;
            Remove(victim, RemovalCause.Evicted);
        }
        if (_arena.Length - _liveRecordBytes >= recordLength)
        {
            if (_arena.Length - _arenaUsed < recordLength) Compact();
            return true;
        }
        // as Redis: nothing this policy may evict (noeviction, volatile-* without volatile keys) means -OOM
        if (_policy.Kind == EvictionPolicyKind.NoEviction || victim < 0 && _count > 0) return false;

        // This shard has nothing left to give (it is empty, or holds only the entry being rewritten) while others hold
        // the budget: grow past it by this one record; the maintenance tick makes shards over their share give memory back.
        Reallocate((int)Math.Min(MaxArenaSize, Math.Max(minimal, _arena.Length)));
        if (_arena.Length - _arenaUsed < recordLength) return false;
        return true;
    }

    /// <summary>Slides live records down over the garbage, in place.</summary>
    private void Compact() => _arenaUsed = CopyLiveRecords(_arena, _arena);

    private void Reallocate(int newLength)
    {
        var old = _arena;
        var arena = GC.AllocateUninitializedArray<byte>(newLength);
        _arenaUsed = CopyLiveRecords(old, arena);
        _arena = arena;
        Account((long)newLength - old.Length);
    }

    /// <summary>
    /// Copies the live records of <paramref name="source"/> to the start of <paramref name="target"/> in arena order,
    /// trimming slack, and points the entries at their new offsets. Works in place (target == source): records only
    /// move down and BlockCopy handles the overlap. Returns the bytes used.
    /// </summary>
    private int CopyLiveRecords(byte[] source, byte[] target)
    {
        int read = 0, write = 0, end = _arenaUsed;
        while (read < end)
        {
            int id = BinaryPrimitives.ReadInt32LittleEndian(source.AsSpan(read));
            int recordLength = BinaryPrimitives.ReadInt32LittleEndian(source.AsSpan(read + 4));
            if (id >= 0)
            {
                ref Entry e = ref _entries[id];
                int exactLength = RecordHeaderSize + e.KeyLength + e.ValueLength;
                if (write != read || !ReferenceEquals(source, target))
                    Buffer.BlockCopy(source, read, target, write, exactLength);
                BinaryPrimitives.WriteInt32LittleEndian(target.AsSpan(write + 4), exactLength);
                e.Offset = write;
                write += exactLength;
            }
            read += recordLength;
        }
        return write;
    }

    private void ShrinkArena()
    {
        long target = Math.Max(InitialArenaSize, _liveRecordBytes + (_liveRecordBytes >> 2));
        if (target < _arena.Length / 2) Reallocate((int)target);
    }

    private int AllocateId()
    {
        if (_freeList >= 0)
        {
            int id = _freeList;
            _freeList = _entries[id].Next;
            return id;
        }
        if (_highWater == _entries.Length)
        {
            long growth = (long)_entries.Length * _bytesPerId;
            if (!_budget.CanGrow(growth) && _count > 0)
            {
                int victim = _policy.SelectVictim();
                if (victim >= 0)
                {
                    Remove(victim, RemovalCause.Evicted);
                    int reused = _freeList;
                    _freeList = _entries[reused].Next;
                    return reused;
                }
                if (_policy.Kind == EvictionPolicyKind.NoEviction) return -1;
            }
            GrowIds(_entries.Length * 2);
        }
        return _highWater++;
    }

    private void AllocateInitial()
    {
        _entries = new Entry[InitialIdCapacity];
        _buckets = new int[InitialIdCapacity];
        Array.Fill(_buckets, -1);
        _bucketMask = InitialIdCapacity - 1;
        _arena = GC.AllocateUninitializedArray<byte>(InitialArenaSize);
        _policy.EnsureCapacity(InitialIdCapacity);
        _wheel.EnsureCapacity(InitialIdCapacity);
        Account((long)InitialIdCapacity * _bytesPerId + InitialArenaSize);
    }

    private void GrowIds(int capacity)
    {
        int old = _entries.Length;
        Array.Resize(ref _entries, capacity);
        _policy.EnsureCapacity(capacity);
        _wheel.EnsureCapacity(capacity);
        // one bucket per id keeps chains short (load factor <= 1) without storing hashes
        var buckets = new int[capacity];
        Array.Fill(buckets, -1);
        _buckets = buckets;
        _bucketMask = capacity - 1;
        for (int id = 0; id < _highWater; id++)
        {
            if (_entries[id].Offset < 0) continue;
            LinkBucket(id, Hash(Key(id)));
        }
        Account((long)(capacity - old) * _bytesPerId);
    }

    private void LinkBucket(int id, uint hash)
    {
        ref int head = ref _buckets[(int)hash & _bucketMask];
        _entries[id].Next = head;
        head = id;
    }

    private void UnlinkBucket(int id, uint hash)
    {
        ref int link = ref _buckets[(int)hash & _bucketMask];
        while (link != id) link = ref _entries[link].Next;
        link = _entries[id].Next;
    }

    private void Account(long delta)
    {
        _allocated += delta;
        _budget.Add(delta);
    }

    private readonly struct ExpirySink(EntryTable table) : IExpirySink
    {
        public long GetExpireAt(int id) => table._entries[id].ExpireAtMs;

        // the wheel has already unlinked the id
        public void OnExpired(int id) => table.RemoveCore(id, RemovalCause.Expired);
    }
}
