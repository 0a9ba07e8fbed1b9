using AkkaCache.Protocol;
using AkkaCache.Core.Storage;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.PubSub;

/// <summary>The CLIENT TRACKING settings of one connection, from its first CLIENT TRACKING ON to OFF or its close.</summary>
internal sealed class Tracker(ClientInfo client, Subscriber own, bool broadcast, bool optIn, bool optOut)
{
    public ClientInfo Client { get; } = client;
    public Subscriber Own { get; } = own;
    public bool Broadcast { get; } = broadcast;
    public bool OptIn { get; } = optIn;
    public bool OptOut { get; } = optOut;

    // changed by a repeated CLIENT TRACKING ON on the owner's session while writers on other sessions read them:
    // each is one reference or one aligned 64-bit word, read whole
    /// <summary>The client id invalidations go to instead of this connection, or -1.</summary>
    public long Redirect { get; set; } = -1;
    public bool NoLoop { get; set; }
    public byte[][] Prefixes { get; set; } = [];

    /// <summary>Cleared by TRACKING OFF or the connection closing: table entries still naming this tracker are then skipped.</summary>
    public volatile bool Enabled = true;

    public bool MatchesPrefix(ReadOnlySpan<byte> key)
    {
        if (Prefixes.Length == 0) return true;
        foreach (var prefix in Prefixes)
            if (key.StartsWith(prefix)) return true;
        return false;
    }
}

/// <summary>
/// Server-assisted client-side caching (Redis 6 CLIENT TRACKING), node-local: the keys tracking connections read
/// (key → trackers) and the broadcasting trackers. A write, expiry or eviction of a remembered key sends each of its
/// trackers one invalidation and forgets them; a write of a key matching a BCAST prefix goes to the broadcasting
/// trackers. Invalidations go through the recipient's <see cref="Subscriber"/> outbox, the same delivery pub/sub uses,
/// so the writer never waits for another connection's socket. With no tracking connection every hook reads one
/// counter and returns.
/// </summary>
/// <remarks>
/// The table is bounded (tracking-table-max-keys): remembering a key past the bound first invalidates and forgets
/// another, as Redis does, so clients drop what the server can no longer promise to tell them about.
/// Trackers are held by reference rather than by client id: a tracker switched off or closed is marked and skipped,
/// and its entries go with the next invalidation of their keys.
/// </remarks>
internal sealed class ClientTracking(ClientRegistry clients, PubSubRegistry pubSub, Func<long> clock) : IRemovalListener
{
    /// <summary>Redis's default tracking-table-max-keys.</summary>
    public const long DefaultMaxKeys = 1_000_000;

    private readonly object _gate = new();
    private readonly Dictionary<byte[], TrackedKey> _keys = new(ByteKeyComparer.Instance);
    // the keys in the order first remembered, oldest first: the bound evicts from here (entries whose key has gone
    // since are skipped, and dropped in bulk when they outnumber the table)
    private readonly Queue<byte[]> _age = new();
    private Tracker[] _broadcasters = [];
    private Tracker[] _enabled = [];
    private volatile int _trackers;
    private long _maxKeys = DefaultMaxKeys;

    /// <summary>True while any connection of this node tracks: the only thing the request path reads when none does.</summary>
    public bool IsOn => _trackers != 0;

    /// <summary>tracking-table-max-keys (0 = unbounded).</summary>
    public long MaxKeys
    {
        get => Interlocked.Read(ref _maxKeys);
        set => Interlocked.Exchange(ref _maxKeys, value);
    }

    /// <summary>INFO: keys remembered, (key, connection) pairs, and distinct BCAST prefixes.</summary>
    public (int Keys, long Items, int Prefixes) Counts()
    {
        lock (_gate)
        {
            long items = 0;
            foreach (var (_, trackers) in _keys) items += trackers.Count;
            var prefixes = new HashSet<byte[]>(ByteKeyComparer.Instance);
            foreach (var tracker in _broadcasters) prefixes.UnionWith(tracker.Prefixes);
            return (_keys.Count, items, prefixes.Count);
        }
    }

    public int TrackerCount => _trackers;

    public void Enable(Tracker tracker)
    {
        lock (_gate)
        {
            if (tracker.Broadcast) _broadcasters = [.. _broadcasters, tracker];
            _enabled = [.. _enabled, tracker];
            _trackers = _enabled.Length;
        }
    }

    public void Disable(Tracker tracker)
    {
        lock (_gate)
        {
            if (!tracker.Enabled) return;
            tracker.Enabled = false;
            if (tracker.Broadcast) _broadcasters = _broadcasters.Where(t => !ReferenceEquals(t, tracker)).ToArray();
            _enabled = _enabled.Where(t => !ReferenceEquals(t, tracker)).ToArray();
            _trackers = _enabled.Length;
        }
    }

    /// <summary>A tracking connection (default mode) read <paramref name="key"/>: tell it when the key changes.</summary>
    public void Remember(Tracker tracker, ReadOnlySpan<byte> key)
    {
        List<(byte[] Key, List<Tracker> Trackers)>? evicted = null;
        lock (_gate)
        {
            var lookup = _keys.GetAlternateLookup<ReadOnlySpan<byte>>();
            if (lookup.TryGetValue(key, out var trackers))
            {
                if (!trackers.Contains(tracker)) trackers.Add(tracker);
                return;
            }
            // a loop, not one victim: CONFIG SET may have lowered the bound below what the table holds
            long max = MaxKeys;
            while (max > 0 && _keys.Count >= max && _age.TryDequeue(out var oldest))
            {
                if (IsStoredKey(oldest) && _keys.Remove(oldest, out var victims)) (evicted ??= []).Add((oldest, victims));
            }
            var stored = key.ToArray();
            _keys[stored] = new TrackedKey(stored) { tracker };
            _age.Enqueue(stored);
            if (_age.Count > 2 * _keys.Count + 1024) CompactAge();
        }
        if (evicted is not null)
        {
            foreach (var (victim, victimTrackers) in evicted) Send(victimTrackers, victim, all: false, writer: null);
        }
    }

    private void CompactAge()
    {
        var live = _age.Where(IsStoredKey).ToArray();
        _age.Clear();
        foreach (var key in live) _age.Enqueue(key);
    }

    /// <summary>A queued key array is live only if it is the table's own: a key forgotten and remembered again has a newer one.</summary>
    private bool IsStoredKey(byte[] key) => _keys.TryGetValue(key, out var entry) && ReferenceEquals(entry.Key, key);

    /// <summary>The connections told when a key changes; knows its own key array so the age queue can tell stale entries.</summary>
    private sealed class TrackedKey(byte[] key) : List<Tracker>
    {
        public byte[] Key { get; } = key;
    }

    /// <summary>
    /// <paramref name="key"/> changed (a write by <paramref name="writer"/>'s connection, or null for expiry and
    /// eviction): its trackers and the matching broadcasters are told, once.
    /// </summary>
    public void Invalidate(ReadOnlySpan<byte> key, ClientInfo? writer)
    {
        TrackedKey? trackers = null;
        Tracker[] broadcasters;
        lock (_gate)
        {
            if (_keys.Count > 0)
            {
                var lookup = _keys.GetAlternateLookup<ReadOnlySpan<byte>>();
                lookup.Remove(key, out _, out trackers);
            }
            broadcasters = _broadcasters;
        }
        if (trackers is not null) Send(trackers, key, all: false, writer);
        foreach (var tracker in broadcasters)
            if (tracker.MatchesPrefix(key)) SendOne(tracker, key, all: false, writer);
    }

    /// <summary>FLUSHALL / FLUSHDB: every tracking connection is told to drop everything (a null key list), as Redis does.</summary>
    public void InvalidateAll()
    {
        Tracker[] told;
        lock (_gate)
        {
            told = _enabled;
            _keys.Clear();
            _age.Clear();
        }
        foreach (var tracker in told) SendOne(tracker, default, all: true, writer: null);
    }

    private void Send(List<Tracker> trackers, ReadOnlySpan<byte> key, bool all, ClientInfo? writer)
    {
        foreach (var tracker in trackers) SendOne(tracker, key, all, writer);
    }

    private void SendOne(Tracker tracker, ReadOnlySpan<byte> key, bool all, ClientInfo? writer)
    {
        if (!tracker.Enabled) return;
        if (tracker.NoLoop && ReferenceEquals(writer, tracker.Client)) return;
        Subscriber? target = tracker.Own;
        long redirect = tracker.Redirect;
        if (redirect >= 0)
        {
            if (!clients.TryGet(redirect, out var redirected))
            {
                tracker.Own.DeliverRedirectBroken(redirect, pubSub.Limit, clock());
                return;
            }
            target = redirected.Subscriber;
        }
        target?.DeliverInvalidation(key, all, pubSub.Limit, clock());
    }

    void IRemovalListener.OnRemoved(ReadOnlySpan<byte> key, RemovalCause cause)
    {
        if (IsOn) Invalidate(key, writer: null);
    }
}
