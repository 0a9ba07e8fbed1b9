using System.Collections.Concurrent;
using AkkaCache.Cluster.Bus;
using AkkaCache.Cluster.Replication;
using AkkaCache.Cluster.Topology;
using AkkaCache.Core;
using AkkaCache.Core.Actors;
using AkkaCache.Core.HotKeys;
using AkkaCache.Core.Storage;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.HotKeys;

public sealed record HotKeyReplicationSettings
{
    public required string SelfId { get; init; }
    public string? Password { get; init; }

    /// <summary>
    /// How long a holder may serve an owner's copies after a ping the owner answered. It must end before another node
    /// can take over a primary that stopped answering, so it is kept under the control plane's safety margin.
    /// </summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMilliseconds(750);

    /// <summary>Largest value copied to every node; a bigger hot key stays on its owner.</summary>
    public int MaxValueBytes { get; init; } = 64 * 1024;

    /// <summary>How often the owner looks for keys to promote and demote.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A promoted key stays promoted at least this long, so a key near the threshold does not flap.</summary>
    public TimeSpan MinPromoted { get; init; } = TimeSpan.FromSeconds(2);

}

public readonly record struct HotKeyReplicationStats(long Promoted, long Copies, long Promotions, long Demotions, long SessionsEnded, long WritesWaited);

/// <summary>
/// The owner's side of hot-key replication. Each tick, the shards this node leads promote the keys their detectors find
/// hot (and small enough) by sending (key, value, version, absolute expiry) to every other member, and demote keys
/// that cooled (counting the reads the holders report). A write to a promoted key sends the new state to every holder
/// and its reply waits on a <see cref="HotBarrier"/>: every holder acknowledged, or its lease ran out — so no node
/// serves the old value once the write is acknowledged. A shard being handed off drops every copy before the new owner
/// can take a write. Promoted sets are per shard and only touched on the shard's actor.
/// </summary>
public sealed class HotKeyReplicator : IAsyncDisposable
{
    private readonly HotKeyReplicationSettings _settings;
    private readonly CacheEngine _engine;
    private readonly ReplicationHub _hub;
    private readonly Func<bool> _leaseValid;
    private readonly PeerLinks<HotKeyPeer> _links;
    private readonly Dictionary<byte[], PromotedKey>?[] _promoted;   // per shard, on the shard actor only
    private readonly int[] _promotedCounts;                           // per shard, readable anywhere
    private readonly HotBarrier?[] _handoffBarriers;
    private readonly ConcurrentDictionary<byte[], int> _promotedIndex = new(ByteKeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], long> _writeHeavy = new(ByteKeyComparer.Instance);   // key → unix ms until it may be promoted again
    private ConcurrentDictionary<byte[], long> _remoteReads = new(ByteKeyComparer.Instance);
    private TaskCompletionSource _acked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _firstSession;
    private readonly ITimer _tick;
    private readonly ITimer _ping;
    private long _lastTickMs;
    private int _ticking;
    private int _promotedCount;
    private long _promotions, _demotions, _sessionsEnded, _writesWaited;
    private bool _disposed;

    public HotKeyReplicator(HotKeyReplicationSettings settings, CacheEngine engine, ReplicationHub hub, TimeProvider time, Func<bool> leaseValid)
    {
        _settings = settings;
        _engine = engine;
        _hub = hub;
        _leaseValid = leaseValid;
        Time = time;
        Logger = Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<HotKeyReplicator>(hub.LoggerFactory);
        _maxValueBytes = settings.MaxValueBytes;
        SelfIdBytes = System.Text.Encoding.UTF8.GetBytes(settings.SelfId);
        int shards = engine.Shards.Length;
        _promoted = new Dictionary<byte[], PromotedKey>?[shards];
        _promotedCounts = new int[shards];
        _handoffBarriers = new HotBarrier?[shards];
        long frequency = time.TimestampFrequency;
        HolderLeaseTicks = (long)(settings.Lease.TotalSeconds * frequency);
        // the owner counts a little longer than the holder: their clocks may not tick at exactly the same rate
        OwnerLeaseTicks = HolderLeaseTicks + HolderLeaseTicks / 20 + frequency / 100;
        AckTimeoutTicks = HolderLeaseTicks / 2;
        // sessions only grow, also across restarts of this node: holders ignore messages of sessions older than they know
        _firstSession = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        _lastTickMs = engine.NowMs;
        _links = new PeerLinks<HotKeyPeer>(settings.SelfId, member => new HotKeyPeer(this, member.Id, member.Host, member.Port, _firstSession));
        hub.HandoffStarting += OnHandoffStarting;
        hub.HandoffGate = IsHandoffClear;
        _tick = time.CreateTimer(static state => ((HotKeyReplicator)state!).Tick(), this, settings.Interval, settings.Interval);
        var pingPeriod = TimeSpan.FromTicks(Math.Max(settings.Lease.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
        _ping = time.CreateTimer(static state => ((HotKeyReplicator)state!).PingOwners(), this, pingPeriod, pingPeriod);
    }

    public HotKeyCopies Copies { get; } = new();
    internal Microsoft.Extensions.Logging.ILogger Logger { get; }
    public TimeProvider Time { get; }
    public byte[] SelfIdBytes { get; }
    public string? Password => _settings.Password;
    private int _maxValueBytes;

    /// <summary>Largest value copied (CONFIG SET hotkey-max-value-size); promoted keys over it are demoted at the next tick.</summary>
    public int MaxValueBytes
    {
        get => Volatile.Read(ref _maxValueBytes);
        set => Volatile.Write(ref _maxValueBytes, value);
    }
    internal long HolderLeaseTicks { get; }
    internal long OwnerLeaseTicks { get; }
    internal long AckTimeoutTicks { get; }

    /// <summary>How long a key demoted for being written as much as read stays unpromoted.</summary>
    private long WriteHeavyCooldownMs => 10 * (long)_settings.MinPromoted.TotalMilliseconds;

    /// <summary>Whether any key of this node is promoted (checked on every write before anything else).</summary>
    public bool AnyPromoted => Volatile.Read(ref _promotedCount) > 0;

    /// <summary>The members promoted keys are copied to.</summary>
    public IEnumerable<string> PeerIds => _links.Current.Select(p => p.Id);

    /// <summary>Keys this node promoted (not those being demoted).</summary>
    public IEnumerable<byte[]> PromotedKeys => _promotedIndex.Keys;

    public HotKeyReplicationStats Stats() => new(_promotedIndex.Count, Copies.Count, Interlocked.Read(ref _promotions),
        Interlocked.Read(ref _demotions), Interlocked.Read(ref _sessionsEnded), Interlocked.Read(ref _writesWaited));

    internal void CountSessionEnded() => Interlocked.Increment(ref _sessionsEnded);

    // ------------------------------------------------------------------ peers

    /// <summary>Follows the map: a link per other member. A removed peer's pings are refused from then on, so barriers on it end with its lease.</summary>
    public void Refresh(ClusterTopology? topology) => _links.Apply(topology);

    /// <summary>AC.HOTPING from <paramref name="holder"/>: the session its copies are valid in, or null to let its lease run out.</summary>
    public long? AnswerPing(ReadOnlySpan<byte> holder)
    {
        if (!_leaseValid()) return null;
        foreach (var peer in _links.Current)
            if (holder.SequenceEqual(peer.IdBytes)) return peer.AnswerPing(Time.GetTimestamp());
        return null;
    }

    /// <summary>Reads of a promoted key that a holder served: they keep the key promoted though they never reach its shard.</summary>
    public void AddRemoteReads(ReadOnlySpan<byte> key, long reads)
    {
        if (reads <= 0 || !_promotedIndex.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out _)) return;
        Volatile.Read(ref _remoteReads).AddOrUpdate(key.ToArray(), reads, (_, old) => old + reads);
    }

    private void PingOwners()
    {
        if (Volatile.Read(ref _disposed)) return;
        foreach (var peer in _links.Current)
        {
            var owner = Copies.Owner(peer.IdBytes);
            peer.Ping(owner, Copies.TakeReads(owner));
        }
    }

    internal void OnAcknowledged()
    {
        if (_acked.Task.IsCompleted) return;
        Interlocked.Exchange(ref _acked, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    // ------------------------------------------------------------------ writes (on the shard actor)

    /// <summary>
    /// A write on a shard this node leads changed <paramref name="key"/>. If the key is promoted, its new state (or its
    /// removal) goes to every holder, and the write's reply must wait for the returned barrier.
    /// </summary>
    public HotBarrier? OnWrite(int shard, EntryTable table, ReadOnlySpan<byte> key, long nowMs)
    {
        if (_promoted[shard] is not { Count: > 0 } set) return null;
        if (!set.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var promoted)) return null;
        var peers = _links.Current;
        if (peers.Length == 0) return null;
        int id = table.Find(key, EntryTable.Hash(key), nowMs);
        promoted.Writes++;
        if (promoted.Demoting is null && id >= 0 && table.ValueLength(id) <= MaxValueBytes)
            return Send(peers, promoted.Key, table, id);
        var barrier = Send(peers, promoted.Key, table, -1);
        // grown past what is copied: it stays on its owner
        if (id >= 0 && promoted.Demoting is null) Demote(promoted, barrier);
        return barrier;
    }

    /// <summary>The shard was emptied (FLUSHALL): every copy of its promoted keys goes.</summary>
    public HotBarrier? OnClear(int shard)
    {
        if (_promoted[shard] is not { Count: > 0 } set) return null;
        var peers = _links.Current;
        HotBarrier? last = null;
        foreach (var promoted in set.Values) last = Send(peers, promoted.Key, null, -1);
        return last;
    }

    /// <summary>Completes once no holder can serve what the barrier's messages replaced.</summary>
    public async ValueTask WaitAsync(HotBarrier barrier)
    {
        Interlocked.Increment(ref _writesWaited);
        while (true)
        {
            var acked = Volatile.Read(ref _acked).Task;
            long now = Time.GetTimestamp();
            if (barrier.HasPassed(now, out long retryAt)) return;
            try
            {
                if (retryAt == long.MaxValue) await acked.ConfigureAwait(false);
                else await acked.WaitAsync(TimeSpan.FromSeconds((retryAt - now) / (double)Time.TimestampFrequency), Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>Whether the key is promoted (on the shard's actor, for AC.HOTKEYS).</summary>
    public bool IsPromoted(int shard, ReadOnlySpan<byte> key) =>
        _promoted[shard] is { Count: > 0 } set && set.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var promoted) && promoted.Demoting is null;

    /// <summary>Sends the key's state — its entry <paramref name="id"/> of <paramref name="table"/>, or its absence — to <paramref name="peers"/>.</summary>
    private static HotBarrier Send(HotKeyPeer[] peers, byte[] key, EntryTable? table, int id)
    {
        var sessions = new long[peers.Length];
        var seqs = new long[peers.Length];
        for (int i = 0; i < peers.Length; i++)
        {
            (sessions[i], seqs[i]) = id >= 0
                ? peers[i].EnqueueSet(key, table!.Value(id), table.Version(id), table.ExpireAt(id))
                : peers[i].EnqueueDelete(key);
        }
        return new HotBarrier(peers, sessions, seqs);
    }

    // ------------------------------------------------------------------ promotion and demotion

    private void Tick()
    {
        if (Volatile.Read(ref _disposed) || Interlocked.Exchange(ref _ticking, 1) == 1) return;
        try
        {
            var topology = _hub.Topology;
            Refresh(topology);
            long nowMs = _engine.NowMs;
            long now = Time.GetTimestamp();
            for (int shard = 0; shard < _handoffBarriers.Length; shard++)
            {
                if (Volatile.Read(ref _handoffBarriers[shard]) is { } barrier && barrier.HasPassed(now, out _))
                {
                    Volatile.Write(ref _handoffBarriers[shard], null);
                    _hub.RecheckHandoff(shard);
                }
            }
            var remoteReads = Interlocked.Exchange(ref _remoteReads, new ConcurrentDictionary<byte[], long>(ByteKeyComparer.Instance));
            long elapsedMs = Math.Max(nowMs - _lastTickMs, 1);
            _lastTickMs = nowMs;
            foreach (var (key, until) in _writeHeavy)
                if (until <= nowMs) _writeHeavy.TryRemove(new KeyValuePair<byte[], long>(key, until));
            if (topology is null) return;
            bool canPromote = _leaseValid();
            var resync = _links.Current.Where(p => p.TakeResync()).ToArray();
            long nodeRate = 0;
            foreach (var shard in _engine.Shards)
                if (shard.HotKeys is { } detector) nodeRate += detector.PeekTotalRate(nowMs);
            long floor = _engine.HotKeyThresholds.Floor(nodeRate);
            var step = new Step(this, floor, remoteReads, elapsedMs, resync);
            foreach (var shard in _engine.Shards)
            {
                int index = shard.Index;
                bool leads = canPromote && topology.RoleOf(index) == ShardRole.Primary && _hub.PhaseOf(index) == HandoffPhase.None;
                bool hasPromoted = Volatile.Read(ref _promotedCounts[index]) > 0;
                if (hasPromoted || leads && shard.HotKeys is { } detector && detector.PeekCountAtLeast(nowMs, floor) > 0)
                    shard.Tell(step);
            }
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    /// <summary>One tick's work on one shard's actor (one instance serves every shard of the tick).</summary>
    private sealed class Step(HotKeyReplicator replicator, long floor, ConcurrentDictionary<byte[], long> remoteReads, long elapsedMs, HotKeyPeer[] resync) : IShardMessage
    {
        public bool Handle(ShardActor shard)
        {
            replicator.RunStep(shard, floor, remoteReads, elapsedMs, resync);
            return false;
        }
    }

    private void RunStep(ShardActor shard, long floor, ConcurrentDictionary<byte[], long> remoteReads, long elapsedMs, HotKeyPeer[] resync)
    {
        int index = shard.Index;
        var table = shard.Table;
        long nowMs = _engine.NowMs;
        long now = Time.GetTimestamp();
        var peers = _links.Current;
        var topology = _hub.Topology;
        bool leads = _leaseValid() && topology?.RoleOf(index) == ShardRole.Primary && _hub.PhaseOf(index) == HandoffPhase.None;
        var set = _promoted[index];
        if (set is not null)
        {
            foreach (var promoted in set.Values.ToArray())
            {
                if (promoted.Demoting is { } demoting)
                {
                    if (demoting.HasPassed(now, out _)) Remove(index, set, promoted);
                    continue;
                }
                long rate = 0;
                if (shard.HotKeys is { } detector) rate = detector.RateOf(detector.Estimate(EntryTable.Hash(promoted.Key), nowMs), nowMs);
                if (remoteReads.TryGetValue(promoted.Key, out long remote)) rate += remote * 1000 / elapsedMs;
                int id = table.Find(promoted.Key, EntryTable.Hash(promoted.Key), nowMs);
                bool cooled = nowMs - promoted.SinceMs >= (long)_settings.MinPromoted.TotalMilliseconds && rate < floor / 2;
                // the detector counts writes too: a key written at least as often as it is read gains nothing from copies,
                // and each of its writes would wait for every node; it stays on its owner for a while
                long writeRate = promoted.Writes * 1000 / elapsedMs;
                promoted.Writes = 0;
                bool writeHeavy = writeRate > 0 && 2 * writeRate >= rate;
                if (writeHeavy) _writeHeavy[promoted.Key] = nowMs + WriteHeavyCooldownMs;
                if (!leads || cooled || writeHeavy || id >= 0 && table.ValueLength(id) > MaxValueBytes)
                {
                    Demote(promoted, Send(peers, promoted.Key, null, -1));
                    if (peers.Length == 0) Remove(index, set, promoted);
                }
                else if (resync.Length > 0)
                {
                    Send(resync, promoted.Key, table, id >= 0 && table.ValueLength(id) <= MaxValueBytes ? id : -1);
                }
            }
        }
        if (!leads || peers.Length == 0 || shard.HotKeys is not { } hotKeys) return;
        var hot = new List<HotKey>();
        hotKeys.Collect(nowMs, floor, index, hot);
        foreach (var candidate in hot)
        {
            set = _promoted[index] ??= new Dictionary<byte[], PromotedKey>(ByteKeyComparer.Instance);
            if (set.ContainsKey(candidate.Key)) continue;
            if (_writeHeavy.TryGetValue(candidate.Key, out long until))
            {
                if (until > nowMs) continue;
                _writeHeavy.TryRemove(candidate.Key, out _);
            }
            int id = table.Find(candidate.Key, EntryTable.Hash(candidate.Key), nowMs);
            if (id < 0 || table.ValueLength(id) > MaxValueBytes) continue;
            set[candidate.Key] = new PromotedKey(candidate.Key, nowMs);
            _promotedIndex[candidate.Key] = index;
            Interlocked.Increment(ref _promotedCounts[index]);
            Interlocked.Increment(ref _promotedCount);
            Interlocked.Increment(ref _promotions);
            Send(peers, candidate.Key, table, id);
        }
    }

    private void Demote(PromotedKey promoted, HotBarrier barrier)
    {
        promoted.Demoting = barrier;
        _promotedIndex.TryRemove(promoted.Key, out _);
        Interlocked.Increment(ref _demotions);
    }

    private void Remove(int shard, Dictionary<byte[], PromotedKey> set, PromotedKey promoted)
    {
        if (!set.Remove(promoted.Key)) return;
        _promotedIndex.TryRemove(promoted.Key, out _);
        Interlocked.Decrement(ref _promotedCounts[shard]);
        Interlocked.Decrement(ref _promotedCount);
    }

    // ------------------------------------------------------------------ hand-off

    /// <summary>On the shard's actor, as its hand-off starts: every copy goes, and the hand-off waits for that (<see cref="IsHandoffClear"/>).</summary>
    private void OnHandoffStarting(int shard)
    {
        if (_promoted[shard] is not { Count: > 0 } set) return;
        var peers = _links.Current;
        HotBarrier? last = null;
        foreach (var promoted in set.Values)
        {
            last = Send(peers, promoted.Key, null, -1);
            if (promoted.Demoting is null) Demote(promoted, last);
            else promoted.Demoting = last;
        }
        // acknowledgements come in order: the last message's barrier covers all the others
        Volatile.Write(ref _handoffBarriers[shard], last);
    }

    private bool IsHandoffClear(int shard) =>
        Volatile.Read(ref _handoffBarriers[shard]) is not { } barrier || barrier.HasPassed(Time.GetTimestamp(), out _);

    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposed, true);
        _hub.HandoffStarting -= OnHandoffStarting;
        _hub.HandoffGate = null;
        await _tick.DisposeAsync();
        await _ping.DisposeAsync();
        await _links.DisposeAsync();
        Copies.Clear();
    }

    private sealed class PromotedKey(byte[] key, long sinceMs)
    {
        public byte[] Key { get; } = key;
        public long SinceMs { get; } = sinceMs;
        /// <summary>Set once demoted: the key stays in the set (writes still reach the holders) until its copies are gone.</summary>
        public HotBarrier? Demoting { get; set; }

        /// <summary>Writes since the last tick.</summary>
        public long Writes { get; set; }
    }
}

/// <summary>The messages one change sent to each holder: the change is safe to acknowledge once each has passed.</summary>
public sealed class HotBarrier
{
    private readonly HotKeyPeer[] _peers;
    private readonly long[] _sessions;
    private readonly long[] _seqs;

    internal HotBarrier(HotKeyPeer[] peers, long[] sessions, long[] seqs)
    {
        _peers = peers;
        _sessions = sessions;
        _seqs = seqs;
    }

    public bool HasPassed(long now, out long retryAt)
    {
        retryAt = long.MaxValue;
        bool passed = true;
        for (int i = 0; i < _peers.Length; i++)
        {
            if (_peers[i].HasPassed(_sessions[i], _seqs[i], now, out long peerRetry)) continue;
            passed = false;
            retryAt = Math.Min(retryAt, peerRetry);
        }
        return passed;
    }
}
