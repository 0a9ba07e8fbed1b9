using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using AkkaCache.Cluster.ControlPlane;
using AkkaCache.Cluster.Sharding;
using Microsoft.Extensions.Logging;
using ClusterSettings = AkkaCache.Cluster.ControlPlane.ClusterSettings;

namespace AkkaCache.Cluster.Membership;

/// <summary>
/// The cluster's one map maker, a cluster singleton on the oldest cache node: from Akka's membership (Up members,
/// members leaving), finished hand-offs and operator pins it computes the next shard map with
/// <see cref="ShardAllocator"/> and writes it to distributed data with a majority write. It acts only while its own
/// node's quorum lease holds, so a coordinator cut off from the majority never writes a map.
/// </summary>
internal sealed class MapCoordinator : ReceiveActor, IWithTimers
{
    public const string Name = "akkacache-coordinator";

    private sealed record Tick;

    private readonly ClusterSettings _settings;
    private readonly LeaseGuard _guard;
    private readonly ILogger _logger;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly UniqueAddress _self;
    private readonly Dictionary<int, string> _handoffs = [];
    private readonly Dictionary<string, DateTime> _leaveRequests = [];
    private ShardMap? _map;
    private ShardPins _pins = ShardPins.None;
    private bool _tickQueued;
    // members seen unreachable or down (first time seen so), and every cache member seen, by incarnation
    private readonly Dictionary<UniqueAddress, long> _goneSince = [];
    private readonly Dictionary<UniqueAddress, ClusterMember> _seen = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public MapCoordinator(ClusterSettings settings, LeaseGuard guard, ILogger logger)
    {
        _settings = settings;
        _guard = guard;
        _logger = logger;
        _self = _cluster.SelfUniqueAddress;
        ReceiveAsync<Tick>(_ => OnTickAsync());
        Receive<ClusterEvent.IMemberEvent>(_ => Wake());
        Receive<ClusterEvent.IReachabilityEvent>(_ => Wake());
        Receive<HandoffReady>(handoff =>
        {
            _handoffs[handoff.Shard] = handoff.Target;
            Wake();
        });
        Receive<LeaveRequest>(leave =>
        {
            _leaveRequests[leave.MemberId] = DateTime.UtcNow;
            Wake();
        });
        ReceiveAsync<PinRequest>(OnPinAsync);
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer("tick", new Tick(), TimeSpan.FromMilliseconds(200), _settings.CoordinatorInterval);
        _logger.LogInformation("shard map coordinator started on this node");
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Wake()
    {
        if (_tickQueued) return;
        _tickQueued = true;
        Self.Tell(new Tick());
    }

    /// <summary>
    /// Cache members that may hold shards: Up or leaving (they hold shards until they hand them off), with this
    /// cluster's shard count; and members downed or removed less than a lease (plus a margin) after this coordinator
    /// first saw them unreachable or down. A member downed by hand (CLUSTER DOWN) while it still runs keeps its lease
    /// until the others stop vouching for it, so its shards move only once that lease has run out. The resolver downs
    /// only members unreachable for longer than that already, so its downs cost nothing here.
    /// </summary>
    private (List<ClusterMember> Members, HashSet<string> Leaving) ReadMembership()
    {
        var members = new List<ClusterMember>();
        var leaving = new HashSet<string>();
        var state = _cluster.State;
        long now = Environment.TickCount64;
        long grace = (long)_guard.LeaseTtl.TotalMilliseconds + 200;
        var present = new HashSet<UniqueAddress>();
        foreach (var member in state.Members)
        {
            if (!MemberRoles.TryDecode(member, out var node, out int shards) || shards != _settings.ShardCount) continue;
            present.Add(member.UniqueAddress);
            _seen[member.UniqueAddress] = node;
            bool gone = member.Status == MemberStatus.Down || state.Unreachable.Contains(member);
            if (gone) _goneSince.TryAdd(member.UniqueAddress, now);
            else _goneSince.Remove(member.UniqueAddress);
            bool holds = member.Status is MemberStatus.Up or MemberStatus.Leaving
                         || member.Status == MemberStatus.Down && now - _goneSince[member.UniqueAddress] < grace;
            if (!holds || members.Any(m => m.Id == node.Id)) continue; // a duplicate id: the older member keeps it
            members.Add(node);
            if (member.Status == MemberStatus.Leaving || _leaveRequests.ContainsKey(node.Id)) leaving.Add(node.Id);
        }
        foreach (var (address, node) in _seen.ToList())
        {
            if (present.Contains(address)) continue;
            // removed: still counted while its lease may run, if it went away without a graceful leave
            if (_goneSince.TryGetValue(address, out long since) && now - since < grace)
            {
                if (members.All(m => m.Id != node.Id)) members.Add(node);
                continue;
            }
            _seen.Remove(address);
            _goneSince.Remove(address);
        }
        foreach (var id in _leaveRequests.Keys.Where(id => members.All(m => m.Id != id)).ToList()) _leaveRequests.Remove(id);
        return (members, leaving);
    }

    private async Task<bool> LoadAsync()
    {
        var timeout = TimeSpan.FromSeconds(2);
        var got = await _replicator.Ask<IGetResponse>(Dsl.Get(MapStore.MapKey, new ReadMajority(timeout)), timeout + TimeSpan.FromSeconds(1));
        switch (got)
        {
            case GetSuccess success:
                _map = success.Get(MapStore.MapKey).Value;
                break;
            case NotFound:
                _map = ShardMap.Empty(_settings.ShardCount, _settings.ReplicaCount);
                break;
            default:
                return false;
        }
        var pins = await _replicator.Ask<IGetResponse>(Dsl.Get(MapStore.PinsKey, new ReadMajority(timeout)), timeout + TimeSpan.FromSeconds(1));
        if (pins is GetSuccess pinned) _pins = pinned.Get(MapStore.PinsKey).Value;
        _logger.LogInformation("shard map coordinator took over at epoch {Epoch}", _map.Epoch);
        return true;
    }

    private async Task OnTickAsync()
    {
        _tickQueued = false;
        if (!_guard.IsValid) return;
        try
        {
            if (_map is null && !await LoadAsync()) return;
            var current = _map!;
            var (members, leaving) = ReadMembership();
            if (members.Count == 0) return;
            var handoffs = new Dictionary<int, string>(_handoffs);
            var offsets = await CandidateOffsetsAsync(current, members);
            var next = NextMap(_settings, current, members, leaving, handoffs, offsets, pinned: _pins.Pins);
            if (StartsMigrations(current, next))
            {
                // new moves: pick the smallest shards, so a rebalance moves as few bytes as it can
                var sizes = await ShardSizesAsync(members);
                next = NextMap(_settings, current, members, leaving, handoffs, offsets, sizes, _pins.Pins);
            }
            foreach (var shard in handoffs.Keys) _handoffs.Remove(shard);
            if (next.Epoch == current.Epoch) return;
            if (!_guard.IsValid) return;
            var timeout = TimeSpan.FromSeconds(2);
            var written = await _replicator.Ask<IUpdateResponse>(
                Dsl.Update(MapStore.MapKey, new LWWRegister<ShardMap>(_self, next, MapStore.EpochClock), new WriteMajority(timeout),
                    register => register.WithValue(_self, next, MapStore.EpochClock)),
                timeout + TimeSpan.FromSeconds(1));
            // a write that reached no majority is still the local replica's and spreads by gossip: the epoch moved on
            _map = next;
            if (written is not UpdateSuccess)
                _logger.LogWarning("shard map epoch {Epoch} not yet confirmed by a majority ({Reply})", next.Epoch, written.GetType().Name);
            Wake(); // look again at once: more migrations may be due
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            _logger.LogWarning("shard map coordinator: distributed data did not answer in time; trying again");
        }
    }

    private async Task OnPinAsync(PinRequest request)
    {
        var sender = Sender;
        if (_map is null && !await LoadAsync())
        {
            sender.Tell(new PinReply("the shard map could not be read from a majority of the members"));
            return;
        }
        var pins = new Dictionary<int, string>(_pins.Pins);
        if (request.MemberId is null)
        {
            if (!pins.Remove(request.Shard))
            {
                sender.Tell(new PinReply("not pinned"));
                return;
            }
        }
        else
        {
            if (request.Shard < 0 || request.Shard >= _settings.ShardCount)
            {
                sender.Tell(new PinReply($"no shard {request.Shard}: this cluster has shards 0..{_settings.ShardCount - 1}"));
                return;
            }
            var (members, leaving) = ReadMembership();
            if (members.All(m => m.Id != request.MemberId))
            {
                sender.Tell(new PinReply($"unknown node '{request.MemberId}' (not a live member)"));
                return;
            }
            if (leaving.Contains(request.MemberId))
            {
                sender.Tell(new PinReply($"node '{request.MemberId}' is leaving the cluster"));
                return;
            }
            pins[request.Shard] = request.MemberId;
        }
        var value = new ShardPins(pins);
        var timeout = TimeSpan.FromSeconds(2);
        var written = await _replicator.Ask<IUpdateResponse>(
            Dsl.Update(MapStore.PinsKey, new LWWRegister<ShardPins>(_self, value), new WriteMajority(timeout), register => register.WithValue(_self, value)),
            timeout + TimeSpan.FromSeconds(1));
        _pins = value;
        sender.Tell(new PinReply(written is UpdateSuccess ? null : "the pin was not confirmed by a majority of the members"));
        Wake();
    }

    /// <summary>The map after the membership and hand-offs seen now (pure; the coordinator's whole decision).</summary>
    internal static ShardMap NextMap(ClusterSettings settings, ShardMap current, List<ClusterMember> members, HashSet<string> leaving,
        IReadOnlyDictionary<int, string> handoffs, Func<string, int, long>? replicaOffset = null, Func<int, long>? shardBytes = null,
        IReadOnlyDictionary<int, string>? pinned = null)
    {
        var allocation = new AllocationSettings(settings.ReplicaCount, settings.MaxShardsInFlight);
        var next = current;
        // a member back as a new incarnation lost what it held: fail its shards over before it is given new ones
        var reborn = members.Where(m => current.Member(m.Id) is { } known && known.Incarnation != m.Incarnation).Select(m => m.Id).ToHashSet();
        if (reborn.Count > 0) next = ShardAllocator.Rebalance(next, members.Where(m => !reborn.Contains(m.Id)).ToList(), allocation, replicaOffset, leaving, shardBytes, pinned);
        foreach (var (shard, target) in handoffs)
        {
            if (shard < 0 || shard >= next.ShardCount) continue;
            next = ShardAllocator.CompleteMigration(next, shard, target, leaving);
        }
        return ShardAllocator.Rebalance(next, members, allocation, replicaOffset, leaving, shardBytes, pinned);
    }

    private static bool StartsMigrations(ShardMap current, ShardMap next)
    {
        for (int shard = 0; shard < next.ShardCount; shard++)
            if (next.Shards[shard].MigratingTo is { } target && (shard >= current.ShardCount || current.Shards[shard].MigratingTo != target))
                return true;
        return false;
    }

    /// <summary>Bytes per shard as its primary holds them (unknown shards count as large: they are moved last).</summary>
    private async Task<Func<int, long>> ShardSizesAsync(List<ClusterMember> members)
    {
        var answers = await Task.WhenAll(members.Select(m =>
            PeerQuery.PerShardAsync(m.Host, m.Port, _settings.Password, PeerQuery.Sizes, TimeSpan.FromMilliseconds(500), CancellationToken.None)));
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
    private async Task<Func<string, int, long>?> CandidateOffsetsAsync(ShardMap current, List<ClusterMember> members)
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
            (Id: id, Offsets: await PeerQuery.PerShardAsync(live[id].Host, live[id].Port, _settings.Password, PeerQuery.Offsets, TimeSpan.FromMilliseconds(500), CancellationToken.None))));
        var byMember = answers.Where(a => a.Offsets is not null).ToDictionary(a => a.Id, a => a.Offsets!);
        return (member, shard) => byMember.TryGetValue(member, out var offsets) && shard < offsets.Length ? offsets[shard] : -1;
    }
}
