using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using AkkaCache.Cluster.Membership;
using AkkaCache.Cluster.Replication;
using AkkaCache.Cluster.Sharding;
using AkkaCache.Cluster.Topology;
using Microsoft.Extensions.Logging;
using ClusterSettings = AkkaCache.Cluster.ControlPlane.ClusterSettings;

namespace AkkaCache.Cluster.ControlPlane;

/// <summary>What a node needs to join a cluster.</summary>
public sealed record ClusterSettings
{
    /// <summary>The Akka actor system's name: clusters with different names never merge.</summary>
    public required string ClusterName { get; init; }
    /// <summary>This node as clients reach it (<c>--node-id</c>, <c>--announce</c>, <c>--zone</c>).</summary>
    public required ClusterMember Self { get; init; }
    /// <summary>The node's Akka.Remote port (<c>--cluster-port</c>), on <see cref="ClusterMember.Host"/>.</summary>
    public required int ClusterPort { get; init; }
    /// <summary>host:cluster-port of the seed nodes; empty: this node is its own seed (a one-node cluster to start with).</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];
    public DowningStrategy Strategy { get; init; } = DowningStrategy.KeepMajority;
    /// <summary>static-quorum's quorum size.</summary>
    public int QuorumSize { get; init; }
    public int ReplicaCount { get; init; } = 1;
    public int ShardCount { get; init; } = Core.Keyspace.ShardLayout.DefaultShardCount;
    public int MaxShardsInFlight { get; init; } = 4;
    /// <summary>CLUSTER SLOTS/SHARDS list every replica (<c>--cluster-advertise-replicas yes</c>), not only those on members that lead no shard.</summary>
    public bool AdvertiseAllReplicas { get; init; }
    /// <summary>The nodes' <c>requirepass</c>, for the coordinator's questions to other nodes.</summary>
    public string? Password { get; init; }
    /// <summary>HOCON over the shipped defaults (<c>hocon/akkacache.conf</c>), under the switches.</summary>
    public string? AkkaConfig { get; init; }
    /// <summary>How often the coordinator looks at membership besides the membership events that wake it.</summary>
    public TimeSpan CoordinatorInterval { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>What <see cref="ClusterAgent.DownAsync"/> did.</summary>
public enum DownOutcome
{
    /// <summary>Akka's Down was issued: the member is removed and its shards fail over; it stops serving by itself (its quorum lease is refused).</summary>
    Downed,
    /// <summary>The member is already down or gone; its shards fail over (or already did) without help.</summary>
    AlreadyDown,
    /// <summary>Neither the membership nor the map knows the member.</summary>
    Unknown,
}

/// <summary>
/// The node's side of the control plane, on Akka.Cluster: it runs the node's actor system (membership, failure
/// detection and the split brain resolver are Akka's), keeps the quorum lease that fences this node
/// (<see cref="LeaseKeeper"/>), follows the shard map in distributed data (<see cref="MapFollower"/>), and hosts the
/// map coordinator singleton when this is the oldest node (<see cref="MapCoordinator"/>). A node that the cluster
/// downed (after a pause or a partition) drops everything it held and joins again as a new incarnation.
/// </summary>
public sealed partial class ClusterAgent : IAsyncDisposable
{
    private readonly ClusterSettings _settings;
    private readonly ReplicationHub _hub;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _applyGate = new();
    private ActorSystem? _system;
    private IActorRef? _coordinator;
    private ClusterTopology? _topology;
    private long _incarnation;
    private volatile bool _leaving;
    private bool _reportedShardCount;
    private Task _watch = Task.CompletedTask;

    public ClusterAgent(ClusterSettings settings, ReplicationHub hub, TimeProvider time)
    {
        _settings = settings;
        _logger = hub.LoggerFactory.CreateLogger<ClusterAgent>();
        _hub = hub;
        Config = BuildConfig(settings);
        Lease = Config.GetTimeSpan("akkacache.lease", TimeSpan.FromSeconds(1));
        Guard = new LeaseGuard(time, Lease, TimeSpan.Zero);
        hub.HandoffReady += OnHandoffReady;
    }

    public ClusterSettings Settings => _settings;

    /// <summary>The node's whole Akka configuration: the switches over <see cref="ClusterSettings.AkkaConfig"/> over the shipped defaults.</summary>
    public Config Config { get; }

    /// <summary>How long one confirmation of the quorum lease lets the node serve (<c>akkacache.lease</c>).</summary>
    public TimeSpan Lease { get; }

    public LeaseGuard Guard { get; }

    /// <summary>The actor system of the current incarnation (null before the start and between incarnations).</summary>
    public ActorSystem? System => Volatile.Read(ref _system);

    /// <summary>This incarnation's Akka uid: assignments the map made to an earlier one are not this node's.</summary>
    public long Incarnation => Volatile.Read(ref _incarnation);

    /// <summary>Whether this node hosts the map coordinator (the oldest Up cache member).</summary>
    public bool IsLeader => System is { } system && OldestCacheMember(Akka.Cluster.Cluster.Get(system)) is { } oldest
                            && oldest.UniqueAddress == Akka.Cluster.Cluster.Get(system).SelfUniqueAddress;

    /// <summary>The map as this node follows it; null until the first map arrives or while the node is between incarnations.</summary>
    public ClusterTopology? Topology => Volatile.Read(ref _topology);

    /// <summary>Whether the node may answer for shards now: a map, and a lease it can vouch for.</summary>
    public bool CanServe => Volatile.Read(ref _topology) is not null && Guard.IsValid;

    /// <summary>Whether this node is an Up member of the cluster now.</summary>
    public bool IsUp => System is { } system && Akka.Cluster.Cluster.Get(system).SelfMember.Status == MemberStatus.Up;

    public event Action<ClusterTopology>? TopologyChanged;

    /// <summary>The cluster's map has a different shard count: this node cannot join it and stops (the message says both counts).</summary>
    public event Action<string>? Refused;

    /// <summary>The node's HOCON: what the switches say, over the user's HOCON, over the shipped defaults.</summary>
    public static Config BuildConfig(ClusterSettings settings)
    {
        static string Quote(string s) => JsonSerializer.Serialize(s);
        var seeds = (settings.SeedNodes.Count > 0 ? settings.SeedNodes : [$"{settings.Self.Host}:{settings.ClusterPort}"])
            .Select(seed => Quote($"akka.tcp://{settings.ClusterName}@{seed}"));
        string strategy = settings.Strategy switch
        {
            DowningStrategy.StaticQuorum => "static-quorum",
            DowningStrategy.KeepOldest => "keep-oldest",
            DowningStrategy.DownAll => "down-all",
            _ => "keep-majority",
        };
        string switches = $"""
            akka.remote.dot-netty.tcp.hostname = {Quote(settings.Self.Host)}
            akka.remote.dot-netty.tcp.port = {settings.ClusterPort}
            akka.cluster.seed-nodes = [{string.Join(", ", seeds)}]
            akka.cluster.roles = [{string.Join(", ", MemberRoles.Encode(settings.Self, settings.ShardCount).Select(Quote))}]
            akka.cluster.split-brain-resolver.active-strategy = {strategy}
            """;
        if (settings.Strategy == DowningStrategy.StaticQuorum)
            switches += $"\nakka.cluster.split-brain-resolver.static-quorum.quorum-size = {settings.QuorumSize}";
        var config = ConfigurationFactory.ParseString(switches);
        if (!string.IsNullOrWhiteSpace(settings.AkkaConfig)) config = config.WithFallback(ConfigurationFactory.ParseString(settings.AkkaConfig));
        return config.WithFallback(NodeHocon.Shipped);
    }

    /// <summary>Starts this node's actor system and asks the seeds to let it in; returns once the system runs (not once it is Up).</summary>
    /// <exception cref="InvalidOperationException">The cluster port cannot be listened on.</exception>
    public Task StartAsync(CancellationToken cancellation = default)
    {
        StartIncarnation();
        _watch = Task.Run(WatchAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>host:cluster-port of the other members the current incarnation last saw: the seeds of the next one.</summary>
    private IReadOnlyList<string> _peers = [];

    private void StartIncarnation()
    {
        var config = Config;
        // a node downed and joining again must never form a cluster of its own (it would if it were its own first
        // seed): it asks the members it last saw, and the seeds it was given, and waits for one of them to let it in
        string self = $"{_settings.Self.Host}:{_settings.ClusterPort}";
        var seeds = _peers.Concat(_settings.SeedNodes).Where(seed => seed != self).Distinct().ToList();
        if (_peers.Count > 0 && seeds.Count > 0) config = BuildConfig(_settings with { SeedNodes = seeds });
        ActorSystem system;
        try
        {
            system = ActorSystem.Create(_settings.ClusterName,
                Akka.Actor.BootstrapSetup.Create().WithConfig(config).And(new LoggerFactorySetup(_hub.LoggerFactory)));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"Cannot start the cluster transport on {_settings.Self.Host}:{_settings.ClusterPort} (--cluster-port): {Innermost(e).Message}", e);
        }
        var cluster = Akka.Cluster.Cluster.Get(system);
        lock (_applyGate)
        {
            // any map applied from now on is read for the new incarnation; one applied before is forgotten
            Volatile.Write(ref _incarnation, cluster.SelfUniqueAddress.Uid);
            _hub.SelfIncarnation = cluster.SelfUniqueAddress.Uid;
            Volatile.Write(ref _topology, null);
            _reportedShardCount = false;
        }
        var period = TimeSpan.FromTicks(Math.Max(Lease.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks));
        var leaseLogger = _hub.LoggerFactory.CreateLogger<LeaseKeeper>();
        system.ActorOf(Props.Create(() => new LeaseKeeper(Guard, _settings.Strategy, _settings.QuorumSize, period, leaseLogger)), LeaseKeeper.Name);
        system.ActorOf(Props.Create(() => new MapFollower(ApplyMap)), MapFollower.Name);
        var coordinatorLogger = _hub.LoggerFactory.CreateLogger<MapCoordinator>();
        system.ActorOf(ClusterSingletonManager.Props(
                Props.Create(() => new MapCoordinator(_settings, Guard, coordinatorLogger)),
                PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(MemberRoles.CacheRole).WithSingletonName("coordinator")),
            MapCoordinator.Name);
        _coordinator = system.ActorOf(ClusterSingletonProxy.Props($"/user/{MapCoordinator.Name}",
            ClusterSingletonProxySettings.Create(system).WithRole(MemberRoles.CacheRole).WithSingletonName("coordinator")), "akkacache-coordinator-proxy");
        cluster.RegisterOnMemberUp(() => _logger.LogInformation("joined cluster '{Cluster}' as {Address}", _settings.ClusterName, cluster.SelfAddress));
        Volatile.Write(ref _system, system);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    /// <summary>
    /// Watches the incarnation: says so in the log while no seed lets the node in, and when the cluster downed this
    /// node (a pause, a partition) and its system stopped, drops everything and joins again as a new member.
    /// </summary>
    private async Task WatchAsync()
    {
        var token = _stop.Token;
        var joiningSince = DateTime.UtcNow;
        var reported = joiningSince;
        while (!token.IsCancellationRequested)
        {
            var system = System;
            if (system is null) return;
            try { await Task.WhenAny(system.WhenTerminated, Task.Delay(500, token)); }
            catch (OperationCanceledException) { return; }
            if (token.IsCancellationRequested) return;
            if (system.WhenTerminated.IsCompleted)
            {
                if (_leaving) return;
                _logger.LogWarning("removed from cluster '{Cluster}' (downed after a pause or a partition); dropping every shard and joining again as a new member",
                    _settings.ClusterName);
                Guard.Lost();
                Volatile.Write(ref _topology, null);
                _hub.DropEverything();
                Volatile.Write(ref _system, null);
                // the old transport gives its port back as it stops; retry until the new one can have it
                for (int attempt = 0; !token.IsCancellationRequested; attempt++)
                {
                    try
                    {
                        StartIncarnation();
                        break;
                    }
                    catch (InvalidOperationException e) when (attempt < 20)
                    {
                        _logger.LogWarning("cannot start a new incarnation yet: {Reason}", e.Message);
                        try { await Task.Delay(500, token); } catch (OperationCanceledException) { return; }
                    }
                }
                joiningSince = reported = DateTime.UtcNow;
                continue;
            }
            var state = Akka.Cluster.Cluster.Get(system).State;
            var peers = state.Members.Where(m => m.Address != Akka.Cluster.Cluster.Get(system).SelfAddress && m.Status is not (MemberStatus.Down or MemberStatus.Removed))
                .Select(m => $"{m.Address.Host}:{m.Address.Port}").ToList();
            if (peers.Count > 0) _peers = peers;
            var status = Akka.Cluster.Cluster.Get(system).SelfMember.Status;
            if (status is MemberStatus.Joining or MemberStatus.WeaklyUp || Akka.Cluster.Cluster.Get(system).State.Members.IsEmpty)
            {
                if (DateTime.UtcNow - reported >= TimeSpan.FromSeconds(5))
                {
                    reported = DateTime.UtcNow;
                    _logger.LogWarning("not a member of cluster '{Cluster}' yet after {Seconds:F0} s: no seed node at {Seeds} let this node in; retrying",
                        _settings.ClusterName, (reported - joiningSince).TotalSeconds, string.Join(", ", SeedAddresses()));
                }
            }
            else joiningSince = reported = DateTime.UtcNow;
        }
    }

    private IEnumerable<string> SeedAddresses() =>
        _settings.SeedNodes.Count > 0 ? _settings.SeedNodes : [$"{_settings.Self.Host}:{_settings.ClusterPort}"];

    internal static Member? OldestCacheMember(Akka.Cluster.Cluster cluster) =>
        cluster.State.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving && m.HasRole(MemberRoles.CacheRole))
            .Aggregate((Member?)null, (oldest, m) => oldest is null || m.IsOlderThan(oldest) ? m : oldest);

    // ------------------------------------------------------------------ following the map

    private void ApplyMap(ShardMap map)
    {
        if (map.ShardCount != _settings.ShardCount)
        {
            // the shard count is fixed when the cluster is created: this node cannot hold that map's shards
            if (!_reportedShardCount)
            {
                string message = $"Cluster '{_settings.ClusterName}' has {map.ShardCount} shards, fixed when it was created; this node was started with --shards {_settings.ShardCount}.";
                _logger.LogError("{Message} Not serving; leaving the cluster", message);
                _reportedShardCount = true;
                Refused?.Invoke(message);
            }
            return;
        }
        ClusterTopology topology;
        lock (_applyGate)
        {
            var current = Volatile.Read(ref _topology);
            if (current is not null && current.Epoch >= map.Epoch) return;
            // assignments made to an earlier incarnation of this node are not ours: we hold none of that data any more
            string me = map.Member(_settings.Self.Id)?.Incarnation == Incarnation ? _settings.Self.Id : "";
            topology = new ClusterTopology(map, me, _settings.AdvertiseAllReplicas);
            _hub.Apply(topology);
            Volatile.Write(ref _topology, topology);
        }
        TopologyChanged?.Invoke(topology);
    }

    private void OnHandoffReady(int shard, string target)
    {
        var token = _stop.Token;
        _ = Task.Run(async () =>
        {
            // told again until the map shows the shard moved: a coordinator that moved meanwhile learns it too
            for (int attempt = 0; attempt < 40 && !token.IsCancellationRequested; attempt++)
            {
                var topology = Topology;
                if (attempt > 0 && topology is not null && topology.Map.Shards[shard].MigratingTo is null) return;
                _coordinator?.Tell(new HandoffReady(shard, target));
                try { await Task.Delay(250, token); } catch (OperationCanceledException) { return; }
            }
        }, token);
    }

    // ------------------------------------------------------------------ leaving

    /// <summary>Moves every shard this node holds to the others, then leaves the Akka cluster; false when the hand-off did not finish in time.</summary>
    public async Task<bool> LeaveAsync(TimeSpan timeout, CancellationToken cancellation = default)
    {
        _leaving = true;
        var deadline = DateTime.UtcNow + timeout;
        bool emptied = false;
        try
        {
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
                if (System is null || !IsUp && topology is null) break;
                _coordinator?.Tell(new LeaveRequest(_settings.Self.Id));
                await Task.Delay(250, cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // the caller cannot wait any longer (a host's shutdown timeout): leave anyway, so the shards not handed
            // off yet fail over now rather than after the failure detector notices
        }
        await ExitAsync(TimeSpan.FromSeconds(10));
        return emptied;
    }

    /// <summary>Akka's graceful leave: Leaving, Exiting, Removed, then the system stops (coordinated shutdown).</summary>
    private async Task ExitAsync(TimeSpan timeout)
    {
        _leaving = true;
        _stop.Cancel();
        Guard.Lost();
        if (System is not { } system) return;
        var shutdown = CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        await Task.WhenAny(shutdown, Task.Delay(timeout));
        if (!system.WhenTerminated.IsCompleted)
        {
            await system.Terminate();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _leaving = true;
        if (!_stop.IsCancellationRequested) _stop.Cancel();
        try { await _watch; } catch (OperationCanceledException) { }
        _hub.HandoffReady -= OnHandoffReady;
        if (System is { } system && !system.WhenTerminated.IsCompleted)
        {
            // a stop without a leave (SIGINT, a host stopping without leave): the others fail this node over
            await Task.WhenAny(system.Terminate(), Task.Delay(TimeSpan.FromSeconds(5)));
        }
        _stop.Dispose();
    }
}
