using AkkaCache.Cluster.Sharding;
using AkkaCache.Cluster.Topology;
using AkkaCache.Core;
using AkkaCache.Core.Actors;
using AkkaCache.Core.Storage;

namespace AkkaCache.Cluster.Replication;

/// <summary>Where a shard this node leads stands in moving to another node.</summary>
public enum HandoffPhase
{
    None = 0,
    /// <summary>The target has everything but the last writes: new writes wait (-TRYAGAIN) until it confirms them.</summary>
    Draining = 1,
    /// <summary>The target has confirmed every write: it answers for the shard (-ASK) until the new map names it primary.</summary>
    Handed = 2,
}

/// <summary>
/// Both ends of replication on one node. As a primary: a sequence number per shard, the streams of the shard's
/// replicas and migration target (one link per peer node), and the hand-off of migrating shards. As a follower:
/// which shards it accepts records for, and how far it has applied them. The map decides both, through <see cref="Apply"/>.
/// </summary>
public sealed class ReplicationHub : IAsyncDisposable
{
    private static readonly ShardStream[] NoStreams = [];

    /// <summary>A migration target at most this many writes behind may take over the shard (after it drains them).</summary>
    private const long HandoffLagWrites = 1024;

    private readonly long[] _seq;                  // per shard, advanced on the shard actor
    private readonly ShardStream[][] _streams;     // per shard, copy-on-write
    private readonly int[] _handoff;               // HandoffPhase per shard
    private readonly long[] _drainSeq;
    private readonly long[] _applied;              // follower side: last sequence number applied per shard
    private readonly Dictionary<string, ReplicationLink> _links = [];
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _retryLoop;
    private TaskCompletionSource _acked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClusterTopology? _topology;
    private long _bytesSent;

    /// <summary>Where the links report lost and retried connections; nothing by default.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory LoggerFactory { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

    public ReplicationHub(CacheEngine engine, string selfId, string? password = null)
    {
        Engine = engine;
        SelfId = selfId;
        Password = password;
        int shards = engine.Shards.Length;
        _seq = new long[shards];
        _streams = new ShardStream[shards][];
        Array.Fill(_streams, NoStreams);
        _handoff = new int[shards];
        _drainSeq = new long[shards];
        _applied = new long[shards];
        _retryLoop = Task.Run(RetryLoopAsync);
    }

    public CacheEngine Engine { get; }
    public string SelfId { get; }

    /// <summary>The cluster's <c>requirepass</c>: links authenticate with it before anything else.</summary>
    public string? Password { get; }

    /// <summary>
    /// Snapshot bytes per second per link (0 = as fast as possible). A snapshot competes for the same cores as the
    /// clients; bounding its rate keeps a rebalance from taking the throughput it is meant to spread.
    /// </summary>
    public long SnapshotBytesPerSecond { get; init; }
    public long SelfIncarnation { get; set; }

    /// <summary>Raised (off the request path) when a migrating shard's target has confirmed every write: the shard may switch owner.</summary>
    public event Action<int, string>? HandoffReady;

    /// <summary>On the shard's actor, as a hand-off starts draining: whatever else serves the shard's keys must stop (hot-key copies).</summary>
    public event Action<int>? HandoffStarting;

    /// <summary>Whether the shard may be handed over yet; false holds it in Draining until <see cref="RecheckHandoff"/>.</summary>
    public Func<int, bool>? HandoffGate { get; set; }

    public long BytesSent => Volatile.Read(ref _bytesSent);

    internal void AddBytesSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    public long SequenceOf(int shard) => Volatile.Read(ref _seq[shard]);

    public long AppliedOf(int shard) => Volatile.Read(ref _applied[shard]);

    public HandoffPhase PhaseOf(int shard) => (HandoffPhase)Volatile.Read(ref _handoff[shard]);

    /// <summary>True when some shard is handing off: the request path checks the phase only then.</summary>
    public bool AnyHandoff => Volatile.Read(ref _handoffCount) > 0;

    /// <summary>
    /// The map being applied. It is published before hand-off phases are reset and shards dropped, and before the
    /// agent publishes the same map, so a request that read the agent's older map can tell it is out of date.
    /// </summary>
    public ClusterTopology? Topology => Volatile.Read(ref _topology);
    private int _handoffCount;

    // ------------------------------------------------------------------ primary side (on the shard actor)

    /// <summary>
    /// A write on a shard this node leads changed <paramref name="key"/>: its resulting state goes to every stream.
    /// Returns the write's sequence number (0 when nobody follows the shard).
    /// </summary>
    public long OnWrite(int shard, EntryTable table, ReadOnlySpan<byte> key, long nowMs)
    {
        var streams = Volatile.Read(ref _streams[shard]);
        if (streams.Length == 0) return 0;
        long seq = ++_seq[shard];
        int id = table.Find(key, EntryTable.Hash(key), nowMs);
        if (id >= 0)
        {
            var value = table.Value(id);
            long expireAt = table.ExpireAt(id);
            foreach (var stream in streams) stream.AppendSet(seq, key, value, expireAt);
        }
        else
        {
            foreach (var stream in streams) stream.AppendDelete(seq, key);
        }
        return seq;
    }

    /// <summary>The shard was emptied (FLUSHALL) on this primary.</summary>
    public long OnClear(int shard)
    {
        var streams = Volatile.Read(ref _streams[shard]);
        if (streams.Length == 0) return 0;
        long seq = ++_seq[shard];
        foreach (var stream in streams) stream.AppendClear(seq);
        return seq;
    }

    /// <summary>How many replicas of <paramref name="shard"/> have acknowledged everything up to <paramref name="seq"/>.</summary>
    public int CountAcknowledged(int shard, long seq)
    {
        int count = 0;
        foreach (var stream in Volatile.Read(ref _streams[shard]))
            if (!stream.IsMigration && stream.IsSynced && stream.AckedSeq >= seq) count++;
        return count;
    }

    /// <summary>WAIT: completes with the number of replicas that acknowledged <paramref name="seq"/> once there are enough or the time is up.</summary>
    public async Task<long> WaitForAcknowledgementsAsync(int shard, long seq, int needed, TimeSpan timeout)
    {
        using var timer = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : new CancellationTokenSource();
        while (true)
        {
            var acked = Volatile.Read(ref _acked);
            int count = CountAcknowledged(shard, seq);
            if (count >= needed || timer.IsCancellationRequested) return count;
            try { await acked.Task.WaitAsync(timer.Token); }
            catch (OperationCanceledException) { return CountAcknowledged(shard, seq); }
        }
    }

    internal void OnAcknowledged(ShardStream stream)
    {
        Interlocked.Exchange(ref _acked, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        if (!stream.IsMigration || !stream.IsSynced || stream.Removed) return;
        int shard = stream.Shard;
        switch (PhaseOf(shard))
        {
            // close enough, not caught up: under a steady stream of writes the target is never exactly level, and
            // draining the last few only refuses writes for the moments they take to arrive
            case HandoffPhase.None when SequenceOf(shard) - stream.AckedSeq <= HandoffLagWrites:
                Engine.Shards[shard].Tell(new BeginHandoff(this, stream));
                break;
            case HandoffPhase.Draining when stream.AckedSeq >= Volatile.Read(ref _drainSeq[shard]) && (HandoffGate?.Invoke(shard) ?? true):
                Volatile.Write(ref _handoff[shard], (int)HandoffPhase.Handed);
                HandoffReady?.Invoke(shard, stream.Link.Peer.Id);
                break;
        }
    }

    /// <summary>What held a hand-off back (<see cref="HandoffGate"/>) has cleared: it goes on if the target is level.</summary>
    public void RecheckHandoff(int shard)
    {
        foreach (var stream in Volatile.Read(ref _streams[shard]))
            if (stream.IsMigration) OnAcknowledged(stream);
    }

    /// <summary>Runs on the shard actor, so no write can slip between reading the last sequence number and refusing writes.</summary>
    private sealed class BeginHandoff(ReplicationHub hub, ShardStream stream) : IShardMessage
    {
        public bool Handle(ShardActor shard)
        {
            int index = shard.Index;
            if (stream.Removed || hub.PhaseOf(index) != HandoffPhase.None) return false;
            Volatile.Write(ref hub._drainSeq[index], hub._seq[index]);
            Volatile.Write(ref hub._handoff[index], (int)HandoffPhase.Draining);
            Interlocked.Increment(ref hub._handoffCount);
            hub.HandoffStarting?.Invoke(index);
            stream.MarkRequested = true;
            stream.Link.Signal(stream);
            return false;
        }
    }

    // ------------------------------------------------------------------ follower side (on the shard actor)

    /// <summary>Whether this node follows <paramref name="senderId"/> for the shard in its current map: records from anyone else (a fenced ex-primary, an older epoch) are refused.</summary>
    public bool Follows(int shard, string? senderId, long senderIncarnation)
    {
        var topology = Volatile.Read(ref _topology);
        if (topology is null || senderId is null) return false;
        var role = topology.RoleOf(shard);
        if (role is not (ShardRole.Replica or ShardRole.Importing)) return false;
        var assignment = topology.Map.Shards[shard];
        return assignment.Primary == senderId && topology.Map.Member(senderId)?.Incarnation == senderIncarnation;
    }

    public void OnApplied(int shard, long seq) => Volatile.Write(ref _applied[shard], seq);

    // ------------------------------------------------------------------ the map

    /// <summary>Follows a new map: opens and closes streams, ends hand-offs, drops shards this node no longer holds.</summary>
    public void Apply(ClusterTopology topology)
    {
        lock (_gate)
        {
            var previous = _topology;
            Volatile.Write(ref _topology, topology);
            var map = topology.Map;
            var wanted = new HashSet<string>();
            for (int shard = 0; shard < _streams.Length && shard < map.ShardCount; shard++)
            {
                var role = topology.RoleOf(shard);
                var before = previous?.RoleOf(shard) ?? ShardRole.None;
                bool targetChanged = previous is not null && previous.Map.Shards[shard].MigratingTo != map.Shards[shard].MigratingTo;
                if ((role != ShardRole.Primary || targetChanged) && PhaseOf(shard) != HandoffPhase.None)
                {
                    Volatile.Write(ref _handoff[shard], (int)HandoffPhase.None);
                    Interlocked.Decrement(ref _handoffCount);
                }
                if (role == ShardRole.Primary && before is ShardRole.Replica or ShardRole.Importing)
                    Engine.Shards[shard].Tell(new Promote(this));
                if (role == ShardRole.None && before != ShardRole.None)
                    Engine.Shards[shard].Tell(new Drop(this));
                ReconcileStreams(shard, role == ShardRole.Primary ? map.Shards[shard] : null, map, wanted);
            }
            foreach (var (id, link) in _links.ToList())
            {
                if (wanted.Contains(id)) continue;
                _links.Remove(id);
                _ = link.DisposeAsync().AsTask();
            }
        }
    }

    private void ReconcileStreams(int shard, ShardAssignment? led, ShardMap map, HashSet<string> wanted)
    {
        var current = _streams[shard];
        var next = new List<ShardStream>(current.Length + 1);
        foreach (var stream in current)
        {
            string peer = stream.Link.Peer.Id;
            bool keep = led is not null && (stream.IsMigration ? led.MigratingTo == peer : Array.IndexOf(led.Replicas, peer) >= 0)
                        && map.Member(peer) == stream.Link.Peer;
            if (keep) next.Add(stream);
            else stream.Link.RemoveStream(stream);
        }
        if (led is not null)
        {
            foreach (var replica in led.Replicas) AddStream(shard, replica, isMigration: false, map, next);
            if (led.MigratingTo is { } target) AddStream(shard, target, isMigration: true, map, next);
            foreach (var stream in next) wanted.Add(stream.Link.Peer.Id);
        }
        if (next.Count != current.Length || next.Any(s => Array.IndexOf(current, s) < 0))
            Volatile.Write(ref _streams[shard], next.Count == 0 ? NoStreams : next.ToArray());
    }

    private void AddStream(int shard, string peerId, bool isMigration, ShardMap map, List<ShardStream> streams)
    {
        if (peerId == SelfId || streams.Any(s => s.Link.Peer.Id == peerId && s.IsMigration == isMigration)) return;
        var peer = map.Member(peerId);
        if (peer is null) return;
        if (!_links.TryGetValue(peerId, out var link) || link.Peer != peer)
        {
            if (link is not null) _ = link.DisposeAsync().AsTask();
            link = new ReplicationLink(this, peer);
            _links[peerId] = link;
        }
        streams.Add(link.AddStream(shard, isMigration));
    }

    /// <summary>A follower became primary: it numbers on from what it applied, so replicas' offsets stay comparable.</summary>
    private sealed class Promote(ReplicationHub hub) : IShardMessage
    {
        public bool Handle(ShardActor shard)
        {
            int index = shard.Index;
            hub._seq[index] = Math.Max(hub._seq[index], hub._applied[index]);
            return false;
        }
    }

    /// <summary>The shard is no longer this node's to hold: its entries go, so they can never be served stale.</summary>
    private sealed class Drop(ReplicationHub hub) : IShardMessage
    {
        public bool Handle(ShardActor shard)
        {
            var topology = Volatile.Read(ref hub._topology);
            if (topology is not null && topology.RoleOf(shard.Index) != ShardRole.None) return false;
            shard.Table.Clear();
            Volatile.Write(ref hub._applied[shard.Index], 0);
            return false;
        }
    }

    /// <summary>Everything this node held belongs to its previous incarnation: forget it.</summary>
    public void DropEverything()
    {
        lock (_gate)
        {
            Volatile.Write(ref _topology, null);
            for (int shard = 0; shard < _streams.Length; shard++)
            {
                foreach (var stream in _streams[shard]) stream.Link.RemoveStream(stream);
                Volatile.Write(ref _streams[shard], NoStreams);
                if (PhaseOf(shard) != HandoffPhase.None)
                {
                    Volatile.Write(ref _handoff[shard], (int)HandoffPhase.None);
                    Interlocked.Decrement(ref _handoffCount);
                }
                Engine.Shards[shard].Tell(new Drop(this));
            }
        }
    }

    // ------------------------------------------------------------------ reporting

    public ReplicationStats Stats()
    {
        int streams = 0, migrating = 0, lagging = 0;
        long lag = 0, led = 0, applied = 0;
        var topology = Volatile.Read(ref _topology);
        for (int shard = 0; shard < _streams.Length; shard++)
        {
            long seq = SequenceOf(shard);
            switch (topology?.RoleOf(shard))
            {
                case ShardRole.Primary: led += seq; break;
                case ShardRole.Replica or ShardRole.Importing: applied += AppliedOf(shard); break;
            }
            foreach (var stream in Volatile.Read(ref _streams[shard]))
            {
                streams++;
                if (stream.IsMigration) migrating++;
                long behind = stream.IsSynced ? Math.Max(0, seq - stream.AckedSeq) : seq + 1;
                if (behind > 0) lagging++;
                lag += behind;
            }
        }
        int links;
        lock (_gate) links = _links.Count;
        return new ReplicationStats(streams, migrating, lagging, lag, links, BytesSent, led, applied);
    }

    private async Task RetryLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try { await Task.Delay(500, _stop.Token); }
            catch (OperationCanceledException) { return; }
            List<ReplicationLink> links;
            lock (_gate) links = [.. _links.Values];
            foreach (var link in links) link.RetryStale();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await _retryLoop; } catch (OperationCanceledException) { }
        List<ReplicationLink> links;
        lock (_gate)
        {
            links = [.. _links.Values];
            _links.Clear();
        }
        foreach (var link in links) await link.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>
/// Replication as INFO shows it: streams this node sends, how many lag and by how many writes, and the sums of the
/// sequence numbers of the shards it leads (written) and follows (applied).
/// </summary>
public readonly record struct ReplicationStats(int Streams, int Migrating, int Lagging, long LagWrites, int Links, long BytesSent, long LedOffset, long AppliedOffset);
