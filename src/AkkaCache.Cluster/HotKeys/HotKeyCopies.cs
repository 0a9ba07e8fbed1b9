using System.Collections.Concurrent;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.HotKeys;

/// <summary>
/// What this node knows of one owner of promoted keys: the owner's session for this node (copies of an older session
/// are dead) and until when this node may serve the owner's copies. Only a ping the owner answered extends that time,
/// and it is counted from before the ping was sent, so the owner — which counts from its answer — always believes it
/// lasts at least as long as it does here.
/// </summary>
public sealed class HotKeyOwner(string id)
{
    private long _session = long.MinValue;
    private long _validUntil;   // TimeProvider timestamp; 0 = not valid

    public string Id { get; } = id;
    public byte[] IdBytes { get; } = System.Text.Encoding.UTF8.GetBytes(id);
    public long Session => Volatile.Read(ref _session);
    public long ValidUntil => Volatile.Read(ref _validUntil);
    internal object Gate { get; } = new();

    internal void SetSession(long session)
    {
        Volatile.Write(ref _session, session);
        // a new session's copies are served only once a ping answered in that session says so
        Volatile.Write(ref _validUntil, 0);
    }

    internal void Extend(long validUntil)
    {
        if (validUntil > _validUntil) Volatile.Write(ref _validUntil, validUntil);
    }
}

/// <summary>A promoted key's copy, as its owner last sent it. Immutable but for the read count the pings report.</summary>
public sealed class HotCopy(byte[] key, byte[] value, long version, long expireAtMs, HotKeyOwner owner, long session)
{
    public byte[] Key { get; } = key;
    public byte[] Value { get; } = value;
    public long Version { get; } = version;
    /// <summary>Absolute unix ms; 0 = no expiry. A copy is never served past it.</summary>
    public long ExpireAtMs { get; } = expireAtMs;
    public HotKeyOwner Owner { get; } = owner;
    public long Session { get; } = session;

    /// <summary>Local reads since the last ping reported them; racy increments are fine, it is a rate estimate.</summary>
    public long Reads;
}

/// <summary>
/// The holder's side of hot-key replication: copies of keys other nodes promoted, served for GET / MGET / EXISTS / TTL
/// without a hop. A copy is served only while its owner's lease here is valid, in the owner's current session, before
/// its absolute expiry, and while this node's map still names the owner primary of the key's shard. Writers are the
/// owners' links (one connection per owner, so one writer per owner); readers are every client session, lock-free.
/// </summary>
public sealed class HotKeyCopies
{
    private readonly ConcurrentDictionary<byte[], HotCopy> _copies = new(ByteKeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], HotCopy>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly object _ownersGate = new();
    private HotKeyOwner[] _owners = [];
    private int _count;

    public HotKeyCopies()
    {
        _lookup = _copies.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Copies held (read on every eligible read: a plain field, not the dictionary's locking Count).</summary>
    public int Count => Volatile.Read(ref _count);

    public IEnumerable<HotCopy> All => _copies.Values;

    /// <summary>The owner named <paramref name="id"/>, created on first use.</summary>
    public HotKeyOwner Owner(ReadOnlySpan<byte> id)
    {
        foreach (var owner in Volatile.Read(ref _owners))
            if (id.SequenceEqual(owner.IdBytes)) return owner;
        lock (_ownersGate)
        {
            foreach (var owner in _owners)
                if (id.SequenceEqual(owner.IdBytes)) return owner;
            var created = new HotKeyOwner(System.Text.Encoding.UTF8.GetString(id));
            Volatile.Write(ref _owners, [.. _owners, created]);
            return created;
        }
    }

    /// <summary>The copy of <paramref name="key"/> if it may be served now; <paramref name="primaryOf"/> is the owner the map names for the key.</summary>
    public HotCopy? Find(ReadOnlySpan<byte> key, long nowMs, long nowTimestamp, string? primaryOf)
    {
        if (!_lookup.TryGetValue(key, out var copy)) return null;
        var owner = copy.Owner;
        if (copy.Session != owner.Session || nowTimestamp >= owner.ValidUntil) return null;
        if (copy.ExpireAtMs != 0 && copy.ExpireAtMs <= nowMs) return null;
        if (primaryOf is null || !string.Equals(primaryOf, owner.Id, StringComparison.Ordinal)) return null;
        return copy;
    }

    /// <summary>AC.HOTSET: stores the owner's copy; false when it belongs to an older session (ignored).</summary>
    public bool Set(HotKeyOwner owner, long session, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long version, long expireAtMs)
    {
        if (!EnterSession(owner, session)) return false;
        var copy = new HotCopy(key.ToArray(), value.ToArray(), version, expireAtMs, owner, session);
        bool added = true;
        _copies.AddOrUpdate(copy.Key, copy, (_, old) =>
        {
            added = false;
            return copy;
        });
        if (added) Interlocked.Increment(ref _count);
        return true;
    }

    /// <summary>AC.HOTDEL: drops the copy (the key was written, deleted or demoted).</summary>
    public bool Delete(HotKeyOwner owner, long session, ReadOnlySpan<byte> key)
    {
        if (!EnterSession(owner, session)) return false;
        if (_lookup.TryRemove(key, out _, out _)) Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>A ping sent at <paramref name="sentAt"/> was answered with <paramref name="session"/>: copies of that session may be served until sentAt + lease.</summary>
    public void Renewed(HotKeyOwner owner, long session, long validUntil)
    {
        lock (owner.Gate)
        {
            if (session < owner.Session) return;
            if (session > owner.Session) StartSession(owner, session);
            owner.Extend(validUntil);
        }
    }

    /// <summary>The copies a ping should report reads of: this owner's, with their reads taken.</summary>
    public List<(byte[] Key, long Reads)> TakeReads(HotKeyOwner owner)
    {
        List<(byte[], long)> reads = [];
        foreach (var copy in _copies.Values)
            if (ReferenceEquals(copy.Owner, owner) && Interlocked.Exchange(ref copy.Reads, 0) is var count and > 0) reads.Add((copy.Key, count));
        return reads;
    }

    /// <summary>A message of a newer session means every older copy of that owner is dead: they go before it is applied.</summary>
    private bool EnterSession(HotKeyOwner owner, long session)
    {
        if (session == owner.Session) return true;
        lock (owner.Gate)
        {
            if (session < owner.Session) return false;
            if (session > owner.Session) StartSession(owner, session);
            return true;
        }
    }

    private void StartSession(HotKeyOwner owner, long session)
    {
        // the session changes first, so the old copies stop being served before they are removed
        owner.SetSession(session);
        foreach (var (key, copy) in _copies)
            if (ReferenceEquals(copy.Owner, owner) && copy.Session < session && _copies.TryRemove(new KeyValuePair<byte[], HotCopy>(key, copy)))
                Interlocked.Decrement(ref _count);
    }

    /// <summary>Drops every copy (the node left the cluster or stops).</summary>
    public void Clear()
    {
        foreach (var key in _copies.Keys)
            if (_copies.TryRemove(key, out _)) Interlocked.Decrement(ref _count);
    }
}
