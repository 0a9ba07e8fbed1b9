using System.Text;
using System.Text.Json;
using AkkaCache.Cluster.Etcd;
using AkkaCache.Cluster.Replication;
using AkkaCache.Cluster.Sharding;
using AkkaCache.Cluster.Topology;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Cluster.ControlPlane;

/// <summary>What a node needs to join a cluster.</summary>
public sealed record ClusterSettings
{
    public required Uri Etcd { get; init; }
    public required string ClusterName { get; init; }
    /// <summary>This node as clients reach it (<c>--node-id</c>, <c>--announce</c>, <c>--zone</c>).</summary>
    public required ClusterMember Self { get; init; }
    public int ReplicaCount { get; init; } = 1;
    public int ShardCount { get; init; } = Core.Keyspace.ShardLayout.DefaultShardCount;
    /// <summary>etcd grants whole seconds.</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(3);
    public int MaxShardsInFlight { get; init; } = 4;
    /// <summary>The nodes' <c>requirepass</c>, for the leader's questions to other nodes.</summary>
    public string? Password { get; init; }
    /// <summary>How often the leader looks at membership (etcd answers in well under a millisecond on loopback).</summary>
    public TimeSpan LeaderPollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Stop serving this long before the lease could expire at etcd.</summary>
    public TimeSpan SafetyMargin => TimeSpan.FromTicks(Math.Min(LeaseTtl.Ticks / 4, TimeSpan.FromSeconds(1).Ticks));

    public string Prefix => $"/akkacache/{ClusterName}/";
}

/// <summary>
/// The node's side of the control plane, on etcd: it keeps the member lease alive (and the <see cref="LeaseGuard"/>
/// that fences the node when it cannot), follows the shard map, and, while it holds the leader key, computes the map.
/// The leader writes the map in a transaction that checks it still holds the leader key, so a deposed leader cannot
/// overwrite its successor's map.
/// </summary>
public sealed partial class ClusterAgent : IAsyncDisposable
{
    private readonly ClusterSettings _settings;
    private readonly ReplicationHub _hub;
    private readonly EtcdClient _etcd;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly string _memberKey, _leaderKey, _mapKey, _leavingPrefix, _handoffPrefix, _membersPrefix, _pinsPrefix;
    private ClusterTopology? _topology;
    private long _lease;
    private volatile bool _leader;
    private volatile bool _leaving;

    private readonly ILogger _logger;

    public ClusterAgent(ClusterSettings settings, ReplicationHub hub, TimeProvider time)
    {
        _settings = settings;
        _logger = hub.LoggerFactory.CreateLogger<ClusterAgent>();
        _hub = hub;
        _etcd = new EtcdClient(settings.Etcd);
        Guard = new LeaseGuard(time, settings.LeaseTtl, settings.SafetyMargin);
        _membersPrefix = settings.Prefix + "members/";
        _memberKey = _membersPrefix + settings.Self.Id;
        _leaderKey = settings.Prefix + "leader";
        _mapKey = settings.Prefix + "map";
        _leavingPrefix = settings.Prefix + "leaving/";
        _handoffPrefix = settings.Prefix + "handoff/";
        _pinsPrefix = settings.Prefix + "pins/";
        hub.HandoffReady += OnHandoffReady;
    }

    public ClusterSettings Settings => _settings;
    public LeaseGuard Guard { get; }
    public bool IsLeader => _leader;
    public long Incarnation => Volatile.Read(ref _lease);

    /// <summary>The map as this node follows it; null until the first map arrives or while the node is between incarnations.</summary>
    public ClusterTopology? Topology => Volatile.Read(ref _topology);

    /// <summary>Whether the node may answer for shards now: a map, and a lease it can vouch for.</summary>
    public bool CanServe => Volatile.Read(ref _topology) is not null && Guard.IsValid;

    public event Action<ClusterTopology>? TopologyChanged;

    /// <summary>Registers the member; throws <see cref="InvalidOperationException"/> when etcd cannot be reached.</summary>
    public async Task StartAsync(CancellationToken cancellation = default)
    {
        try
        {
            if (await _etcd.GetAsync(_mapKey, cancellation) is { } stored && ShardMap.FromJson(stored.Value).ShardCount is var shards && shards != _settings.ShardCount)
                throw new InvalidOperationException(
                    $"Cluster '{_settings.ClusterName}' has {shards} shards, fixed when it was created; this node was started with --shards {_settings.ShardCount}.");
            await RegisterAsync(cancellation);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or EtcdException)
        {
            throw new InvalidOperationException($"Cannot reach etcd at {_settings.Etcd}: {e.Message}", e);
        }
        _loops.Add(Task.Run(KeepAliveLoopAsync));
        _loops.Add(Task.Run(FollowMapLoopAsync));
        _loops.Add(Task.Run(LeaderLoopAsync));
    }

    private async Task RegisterAsync(CancellationToken cancellation)
    {
        long sentAt = Guard.BeforeRequest();
        long lease = await _etcd.GrantLeaseAsync(_settings.LeaseTtl, cancellation);
        var self = _settings.Self with { Incarnation = lease };
        await _etcd.PutAsync(_memberKey, JsonSerializer.SerializeToUtf8Bytes(self, ShardMapJson.Default.ClusterMember), lease, cancellation);
        if (_leaving) await _etcd.PutAsync(_leavingPrefix + _settings.Self.Id, Encoding.UTF8.GetBytes("leaving"), lease, cancellation);
        lock (_applyGate)
        {
            // any map applied from now on is read for the new incarnation; one applied before is forgotten
            Volatile.Write(ref _lease, lease);
            _hub.SelfIncarnation = lease;
            Volatile.Write(ref _topology, null);
        }
        await LoadMapAsync(cancellation);
        // only now: serving before the current map is known could act on assignments of the previous incarnation
        Guard.Confirmed(sentAt);
    }

    // ------------------------------------------------------------------ lease

    private async Task KeepAliveLoopAsync()
    {
        var token = _stop.Token;
        var period = TimeSpan.FromTicks(Math.Max(_settings.LeaseTtl.Ticks / 3, TimeSpan.FromMilliseconds(250).Ticks));
        while (!token.IsCancellationRequested)
        {
            try
            {
                long sentAt = Guard.BeforeRequest();
                long ttl = await _etcd.KeepAliveOnceAsync(Volatile.Read(ref _lease), token);
                if (ttl > 0)
                {
                    Guard.Confirmed(sentAt);
                    await Task.Delay(period, token);
                    continue;
                }
                // the lease expired while we could not renew it (a pause, a partition): this incarnation is over
                _logger.LogWarning("lease {Lease} expired at etcd; dropping every shard and rejoining as a new member", Volatile.Read(ref _lease));
                Guard.Lost();
                Volatile.Write(ref _topology, null);
                _hub.DropEverything();
                await RegisterAsync(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // etcd unreachable: the guard runs out by itself; keep trying, faster than the period
                if (!Guard.IsValid) _logger.LogWarning("cannot renew the lease at {Etcd}: {Reason}; refusing requests until it is", _settings.Etcd, e.Message);
                try { await Task.Delay(250, token); } catch (OperationCanceledException) { return; }
            }
        }
    }

    // ------------------------------------------------------------------ following the map

    private async Task FollowMapLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                long revision = await LoadMapAsync(token);
                await foreach (var change in _etcd.WatchKeyAsync(_mapKey, revision + 1, token))
                {
                    if (change.Type == EtcdEventType.Put && change.Kv.Key == _mapKey) ApplyMap(ShardMap.FromJson(change.Kv.Value));
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                try { await Task.Delay(250, token); } catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task<long> LoadMapAsync(CancellationToken token)
    {
        var range = await _etcd.GetPrefixAsync(_mapKey, token);
        foreach (var item in range.Items)
            if (item.Key == _mapKey) ApplyMap(ShardMap.FromJson(item.Value));
        return range.Revision;
    }

    private readonly object _applyGate = new();

    private bool _reportedShardCount;

    private void ApplyMap(ShardMap map)
    {
        if (map.ShardCount != _settings.ShardCount)
        {
            // the shard count is fixed when the cluster is created: this node cannot hold that map's shards
            if (!_reportedShardCount)
                _logger.LogError("cluster '{ClusterName}' has {MapShards} shards but this node was started with --shards {NodeShards}; not serving",
                    _settings.ClusterName, map.ShardCount, _settings.ShardCount);
            _reportedShardCount = true;
            return;
        }
        ClusterTopology topology;
        lock (_applyGate)
        {
            var current = Volatile.Read(ref _topology);
            if (current is not null && current.Epoch >= map.Epoch) return;
            // assignments made to an earlier incarnation of this node are not ours: we hold none of that data any more
            string me = map.Member(_settings.Self.Id)?.Incarnation == Incarnation ? _settings.Self.Id : "";
            topology = new ClusterTopology(map, me);
            _hub.Apply(topology);
            Volatile.Write(ref _topology, topology);
        }
        TopologyChanged?.Invoke(topology);
    }

    // ------------------------------------------------------------------ leader

    private async Task LeaderLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                _leader = false;
                if (Guard.IsValid && await CampaignAsync(token) is long leaderRevision)
                {
                    _leader = true;
                    await LeadAsync(leaderRevision, token);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // etcd unreachable or the leader key lost: campaign again
            }
            _leader = false;
            try { await Task.Delay(_settings.LeaderPollInterval, token); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Takes the leader key if it is free; the key lives on this node's lease, so it goes when the node does.</summary>
    private async Task<long?> CampaignAsync(CancellationToken token)
    {
        long lease = Volatile.Read(ref _lease);
        var value = Encoding.UTF8.GetBytes($"{_settings.Self.Id} {lease}");
        var result = await _etcd.TxnAsync(
            [EtcdCompare.CreateRevisionEquals(_leaderKey, 0)],
            [EtcdOp.Put(_leaderKey, value, lease)],
            [EtcdOp.Get(_leaderKey)],
            token);
        if (result.Succeeded) return result.Revision;
        // after an etcd restart the key may still be ours
        var held = result.Responses.FirstOrDefault()?.Items.FirstOrDefault();
        if (held is not null && held.Lease == lease && held.Value.AsSpan().SequenceEqual(value)) return held.CreateRevision;
        return null;
    }

    private async Task LeadAsync(long leaderRevision, CancellationToken token)
    {
        // a member coming or going, a leave or a finished hand-off wakes the leader at once; the poll is the fallback
        using var leading = CancellationTokenSource.CreateLinkedTokenSource(token);
        var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = WatchMembershipAsync(() => Interlocked.Exchange(ref wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(), leading.Token);
        try
        {
            await LeadLoopAsync(leaderRevision, () => Volatile.Read(ref wake).Task, token);
        }
        finally
        {
            leading.Cancel();
            try { await watcher; } catch (Exception) { /* the watch ends with the leadership */ }
        }
    }

    private async Task WatchMembershipAsync(Action changed, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                await foreach (var change in _etcd.WatchPrefixAsync(_settings.Prefix, 0, token))
                    if (change.Kv.Key != _mapKey && change.Kv.Key != _leaderKey) changed();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                await Task.Delay(_settings.LeaderPollInterval, token);
            }
        }
    }

    private async Task LeadLoopAsync(long leaderRevision, Func<Task> woken, CancellationToken token)
    {
        while (!token.IsCancellationRequested && Guard.IsValid)
        {
            var wake = woken();
            var members = new List<ClusterMember>();
            foreach (var item in (await _etcd.GetPrefixAsync(_membersPrefix, token)).Items)
                members.Add(JsonSerializer.Deserialize(item.Value, ShardMapJson.Default.ClusterMember)!);
            var leaving = new HashSet<string>();
            foreach (var item in (await _etcd.GetPrefixAsync(_leavingPrefix, token)).Items) leaving.Add(item.Key[_leavingPrefix.Length..]);
            var handoffs = (await _etcd.GetPrefixAsync(_handoffPrefix, token)).Items;
            var pinned = await ReadPinsAsync(token);
            var stored = await _etcd.GetAsync(_mapKey, token);
            var current = stored is null ? ShardMap.Empty(_settings.ShardCount, _settings.ReplicaCount) : ShardMap.FromJson(stored.Value);

            var offsets = await CandidateOffsetsAsync(current, members, token);
            var next = NextMap(current, members, leaving, handoffs, offsets, pinned: pinned);
            if (StartsMigrations(current, next))
            {
                // new moves: pick the smallest shards, so a rebalance moves as few bytes as it can
                var sizes = await ShardSizesAsync(members, token);
                next = NextMap(current, members, leaving, handoffs, offsets, sizes, pinned);
            }
            if (next.Epoch != current.Epoch)
            {
                var ops = new List<EtcdOp> { EtcdOp.Put(_mapKey, next.ToJson(), 0) };
                foreach (var handoff in handoffs) ops.Add(EtcdOp.Delete(handoff.Key));
                var result = await _etcd.TxnAsync(
                    [EtcdCompare.CreateRevisionEquals(_leaderKey, leaderRevision), EtcdCompare.ModRevisionEquals(_mapKey, stored?.ModRevision ?? 0)],
                    ops, null, token);
                if (!result.Succeeded)
                {
                    var leader = await _etcd.GetAsync(_leaderKey, token);
                    if (leader is null || leader.CreateRevision != leaderRevision) return; // deposed
                }
                continue; // look again at once: more migrations may be due
            }
            await Task.WhenAny(Task.Delay(_settings.LeaderPollInterval, token), wake);
        }
    }

    /// <summary>The map after the membership and hand-offs seen now (pure; the leader's whole decision).</summary>
    internal ShardMap NextMap(ShardMap current, List<ClusterMember> members, HashSet<string> leaving, IReadOnlyList<EtcdKeyValue> handoffs,
        Func<string, int, long>? replicaOffset = null, Func<int, long>? shardBytes = null, IReadOnlyDictionary<int, string>? pinned = null)
    {
        var settings = new AllocationSettings(_settings.ReplicaCount, _settings.MaxShardsInFlight);
        var next = current;
        // a member back under a new lease lost what it held: fail its shards over before it is given new ones
        var reborn = members.Where(m => current.Member(m.Id) is { } known && known.Incarnation != m.Incarnation).Select(m => m.Id).ToHashSet();
        if (reborn.Count > 0) next = ShardAllocator.Rebalance(next, members.Where(m => !reborn.Contains(m.Id)).ToList(), settings, replicaOffset, leaving, shardBytes, pinned);
        foreach (var handoff in handoffs)
        {
            if (!int.TryParse(handoff.Key.AsSpan(_handoffPrefix.Length), out int shard) || shard < 0 || shard >= next.ShardCount) continue;
            next = ShardAllocator.CompleteMigration(next, shard, Encoding.UTF8.GetString(handoff.Value), leaving);
        }
        return ShardAllocator.Rebalance(next, members, settings, replicaOffset, leaving, shardBytes, pinned);
    }

    private static bool StartsMigrations(ShardMap current, ShardMap next)
    {
        for (int shard = 0; shard < next.ShardCount; shard++)
            if (next.Shards[shard].MigratingTo is { } target && (shard >= current.ShardCount || current.Shards[shard].MigratingTo != target))
                return true;
        return false;
    }

    /// <summary>Bytes per shard as its primary holds them (unknown shards count as large: they are moved last).</summary>
    private async Task<Func<int, long>> ShardSizesAsync(List<ClusterMember> members, CancellationToken token)
    {
        var answers = await Task.WhenAll(members.Select(m =>
            PeerQuery.PerShardAsync(m.Host, m.Port, _settings.Password, PeerQuery.Sizes, TimeSpan.FromMilliseconds(500), token)));
        var sizes = new long[_settings.ShardCount];
        Array.Fill(sizes, long.MaxValue);
        foreach (var answer in answers)
        {
            if (answer is null) continue;
            for (int shard = 0; shard < answer.Length && shard < sizes.Length; shard++)
                if (answer[shard] >= 0) sizes[shard] = answer[shard];
        }
        return shard => shard < sizes.Length ? sizes[shard] : long.MaxValue;
    }

    /// <summary>
    /// Only when a dead primary leaves a choice of live replicas: asks those replicas how far they got, so the most
    /// up-to-date one is promoted (with one replica there is nothing to choose and nobody is asked).
    /// </summary>
    private async Task<Func<string, int, long>?> CandidateOffsetsAsync(ShardMap current, List<ClusterMember> members, CancellationToken token)
    {
        var live = members.ToDictionary(m => m.Id);
        var candidates = new HashSet<string>();
        foreach (var shard in current.Shards)
        {
            if (shard.Primary is null || live.TryGetValue(shard.Primary, out var primary) && current.Member(shard.Primary)?.Incarnation == primary.Incarnation) continue;
            var alive = shard.Replicas.Where(r => live.TryGetValue(r, out var m) && current.Member(r)?.Incarnation == m.Incarnation).ToList();
            if (alive.Count > 1) candidates.UnionWith(alive);
        }
        if (candidates.Count == 0) return null;
        var answers = await Task.WhenAll(candidates.Select(async id =>
            (Id: id, Offsets: await PeerQuery.PerShardAsync(live[id].Host, live[id].Port, _settings.Password, PeerQuery.Offsets, TimeSpan.FromMilliseconds(500), token))));
        var byMember = answers.Where(a => a.Offsets is not null).ToDictionary(a => a.Id, a => a.Offsets!);
        return (member, shard) => byMember.TryGetValue(member, out var offsets) && shard < offsets.Length ? offsets[shard] : -1;
    }

    private void OnHandoffReady(int shard, string target)
    {
        var token = _stop.Token;
        _ = Task.Run(async () =>
        {
            for (int attempt = 0; attempt < 20 && !token.IsCancellationRequested; attempt++)
            {
                try
                {
                    await _etcd.PutAsync(_handoffPrefix + shard, Encoding.UTF8.GetBytes(target), 0, token);
                    return;
                }
                catch (Exception) when (!token.IsCancellationRequested)
                {
                    await Task.Delay(250, token);
                }
            }
        }, token);
    }

    // ------------------------------------------------------------------ leaving

    /// <summary>Moves every shard this node holds to the others, then leaves; false when that did not finish in time.</summary>
    public async Task<bool> LeaveAsync(TimeSpan timeout, CancellationToken cancellation = default)
    {
        _leaving = true;
        var deadline = DateTime.UtcNow + timeout;
        bool emptied = false;
        try
        {
            await _etcd.PutAsync(_leavingPrefix + _settings.Self.Id, Encoding.UTF8.GetBytes("leaving"), Volatile.Read(ref _lease), cancellation);
            while (DateTime.UtcNow < deadline && !cancellation.IsCancellationRequested)
            {
                var topology = Topology;
                if (topology is not null && !topology.Map.Shards.Any(s => s.IsHeldBy(_settings.Self.Id)))
                {
                    emptied = true;
                    break;
                }
                // the last node has nobody to hand its shards to: it leaves at once
                if (topology is not null && topology.Map.Members.All(m => m.Id == _settings.Self.Id)) break;
                await Task.Delay(100, cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // the caller cannot wait any longer (a host's shutdown timeout): resign anyway, so the shards not handed
            // off yet fail over now rather than when the lease expires
        }
        await ResignAsync();
        return emptied;
    }

    /// <summary>Gives the lease back, so the member record and leader key go at once rather than at expiry.</summary>
    private async Task ResignAsync()
    {
        _stop.Cancel();
        Guard.Lost();
        try { await _etcd.RevokeLeaseAsync(Volatile.Read(ref _lease)); }
        catch (Exception) { /* etcd gone: the lease expires on its own */ }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) _stop.Cancel();
        foreach (var loop in _loops)
        {
            try { await loop; } catch (OperationCanceledException) { }
        }
        _hub.HandoffReady -= OnHandoffReady;
        _etcd.Dispose();
        _stop.Dispose();
    }
}
