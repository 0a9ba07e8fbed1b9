using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using AkkaCache.Cluster.Membership;
using AkkaCache.Cluster.Sharding;

namespace AkkaCache.Cluster.ControlPlane;

/// <summary>One member as Akka's membership and the shard map know it (the <c>akkacache</c> tool's view, AC.CLUSTERSTATE).</summary>
public sealed record MemberState
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("host")] public required string Host { get; init; }
    [JsonPropertyName("port")] public int Port { get; init; }
    [JsonPropertyName("zone")] public string? Zone { get; init; }
    /// <summary>The Akka address (akka.tcp://cluster@host:cluster-port); null for a member only the map still names.</summary>
    [JsonPropertyName("address")] public string? Address { get; init; }
    /// <summary>Akka's member status: Joining, WeaklyUp, Up, Leaving, Exiting, Down, Removed; Unreachable when the failure detector says so.</summary>
    [JsonPropertyName("status")] public string Status { get; init; } = "Removed";
    [JsonPropertyName("roles")] public string[] Roles { get; init; } = [];
    /// <summary>The Akka uid of this incarnation (0 when it is not a member).</summary>
    [JsonPropertyName("incarnation")] public long Incarnation { get; init; }
    /// <summary>A member of the cluster now (any status but Down and Removed).</summary>
    [JsonPropertyName("registered")] public bool Registered { get; init; }
    /// <summary>Named by the current shard map under this incarnation.</summary>
    [JsonPropertyName("inMap")] public bool InMap { get; init; }
    [JsonPropertyName("leaving")] public bool Leaving { get; init; }
    /// <summary>Milliseconds the answering node's own quorum lease still runs (-1 for the other members).</summary>
    [JsonPropertyName("leaseMs")] public long LeaseMs { get; init; } = -1;
}

/// <summary>The control plane as the answering node sees it now: members, coordinator, map.</summary>
public sealed record ClusterState
{
    [JsonPropertyName("cluster")] public required string Cluster { get; init; }
    [JsonPropertyName("epoch")] public long Epoch { get; init; }
    /// <summary>The member hosting the map coordinator (the oldest cache member).</summary>
    [JsonPropertyName("leader")] public string? Leader { get; init; }
    [JsonPropertyName("self")] public string? Self { get; init; }
    [JsonPropertyName("shardCount")] public int ShardCount { get; init; }
    [JsonPropertyName("replicaCount")] public int ReplicaCount { get; init; }
    [JsonPropertyName("members")] public MemberState[] Members { get; init; } = [];
    [JsonPropertyName("shards")] public ShardAssignment[] Shards { get; init; } = [];
    /// <summary>Shards an operator pinned to a member (shard number → member id).</summary>
    [JsonPropertyName("pins")] public Dictionary<int, string> Pins { get; init; } = [];

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ClusterStateJson.Default.ClusterState);
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClusterState))]
internal sealed partial class ClusterStateJson : JsonSerializerContext;

/// <summary>The operator's questions and orders (the <c>akkacache</c> tool), answered from Akka's membership and the map.</summary>
public sealed partial class ClusterAgent
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    private ActorSystem RunningSystem => System ?? throw new InvalidOperationException("this node is between incarnations (rejoining the cluster); try again shortly");

    /// <summary>Members (current ones and those the map still names), the coordinator and the map, as this node sees them now.</summary>
    public async Task<ClusterState> ReadStateAsync(CancellationToken cancellation = default)
    {
        var system = RunningSystem;
        var cluster = Akka.Cluster.Cluster.Get(system);
        var state = cluster.State;
        var map = Topology?.Map ?? ShardMap.Empty(_settings.ShardCount, _settings.ReplicaCount);
        var members = new List<MemberState>();
        var seen = new HashSet<string>();
        foreach (var member in state.Members.OrderBy(m => m.Address, Address.Comparer))
        {
            if (!MemberRoles.TryDecode(member, out var node, out _)) node = new ClusterMember(member.Address.ToString(), member.Address.Host ?? "", 0);
            if (!seen.Add(node.Id)) continue;
            bool unreachable = state.Unreachable.Contains(member);
            bool self = member.UniqueAddress == cluster.SelfUniqueAddress;
            members.Add(new MemberState
            {
                Id = node.Id,
                Host = node.Host,
                Port = node.Port,
                Zone = node.Zone,
                Address = member.Address.ToString(),
                Status = unreachable && member.Status is not (MemberStatus.Down or MemberStatus.Removed) ? "Unreachable" : member.Status.ToString(),
                Roles = [.. MemberRoles.Visible(member)],
                Incarnation = node.Incarnation,
                Registered = member.Status is not (MemberStatus.Down or MemberStatus.Removed),
                InMap = map.Member(node.Id)?.Incarnation == node.Incarnation,
                Leaving = member.Status is MemberStatus.Leaving or MemberStatus.Exiting || self && _leaving,
                LeaseMs = self ? (long)Guard.Remaining.TotalMilliseconds : -1,
            });
        }
        foreach (var gone in map.Members.Where(m => !seen.Contains(m.Id)))
            members.Add(new MemberState { Id = gone.Id, Host = gone.Host, Port = gone.Port, Zone = gone.Zone, Status = "Removed" });
        var leader = OldestCacheMember(cluster) is { } oldest && MemberRoles.TryDecode(oldest, out var leaderNode, out _) ? leaderNode.Id : null;
        return new ClusterState
        {
            Cluster = _settings.ClusterName,
            Epoch = map.Epoch,
            Leader = leader,
            Self = _settings.Self.Id,
            ShardCount = map.ShardCount,
            ReplicaCount = map.ReplicaCount,
            Members = [.. members],
            Shards = map.Shards,
            Pins = new Dictionary<int, string>(await ReadPinsAsync(system, cancellation)),
        };
    }

    private static async Task<IReadOnlyDictionary<int, string>> ReadPinsAsync(ActorSystem system, CancellationToken cancellation)
    {
        var replicator = DistributedData.Get(system).Replicator;
        var got = await replicator.Ask<IGetResponse>(Dsl.Get(MapStore.PinsKey, ReadLocal.Instance), AskTimeout, cancellation);
        return got is GetSuccess success ? success.Get(MapStore.PinsKey).Value.Pins : ShardPins.None.Pins;
    }

    /// <summary>
    /// Pins <paramref name="shard"/> to <paramref name="memberId"/> (<c>akkacache shards move</c>): the coordinator
    /// migrates it there and keeps it there, evening out the load with other shards. The pin lasts until
    /// <see cref="UnpinAsync"/> or another pin of the shard; while the member is down or leaving it is ignored.
    /// </summary>
    /// <exception cref="ArgumentException">No such shard, or the member is not live, or it is leaving.</exception>
    public async Task PinAsync(int shard, string memberId, CancellationToken cancellation = default)
    {
        if (shard < 0 || shard >= _settings.ShardCount)
            throw new ArgumentException($"no shard {shard}: this cluster has shards 0..{_settings.ShardCount - 1}");
        var reply = await AskCoordinatorAsync(new PinRequest(shard, memberId), cancellation);
        if (reply.Error is not null) throw new ArgumentException(reply.Error);
    }

    /// <summary>Lets the balancer move <paramref name="shard"/> again; false when it was not pinned.</summary>
    public async Task<bool> UnpinAsync(int shard, CancellationToken cancellation = default)
    {
        var reply = await AskCoordinatorAsync(new PinRequest(shard, null), cancellation);
        if (reply.Error is "not pinned") return false;
        if (reply.Error is not null) throw new ArgumentException(reply.Error);
        return true;
    }

    private async Task<PinReply> AskCoordinatorAsync(PinRequest request, CancellationToken cancellation)
    {
        _ = RunningSystem;
        try
        {
            return await _coordinator!.Ask<PinReply>(request, AskTimeout, cancellation);
        }
        catch (AskTimeoutException)
        {
            throw new TimeoutException("the shard map coordinator did not answer within 5 s");
        }
    }

    /// <summary>
    /// Declares another member dead now: Akka's Down. The cluster removes it and the coordinator fails its shards over;
    /// the member itself, if it is alive, finds its quorum lease refused and stops serving, then joins again empty.
    /// </summary>
    /// <exception cref="ArgumentException">The member is this node (CLUSTER LEAVE is the way out for it).</exception>
    public Task<DownOutcome> DownAsync(string memberId, CancellationToken cancellation = default)
    {
        if (memberId == _settings.Self.Id)
            throw new ArgumentException("this is the node you are connected to; use CLUSTER LEAVE on it, or CLUSTER DOWN on another node");
        var cluster = Akka.Cluster.Cluster.Get(RunningSystem);
        var member = FindMember(cluster, memberId);
        if (member is null || member.Status is MemberStatus.Down or MemberStatus.Removed)
            return Task.FromResult(member is not null || Topology?.Map.Member(memberId) is not null ? DownOutcome.AlreadyDown : DownOutcome.Unknown);
        cluster.Down(member.Address);
        return Task.FromResult(DownOutcome.Downed);
    }

    /// <summary>Asks <paramref name="memberId"/> to leave gracefully (Akka's Leave): it hands its shards off first, then exits.</summary>
    public bool RequestLeaveOf(string memberId)
    {
        var cluster = Akka.Cluster.Cluster.Get(RunningSystem);
        if (FindMember(cluster, memberId) is not { } member) return false;
        cluster.Leave(member.Address);
        return true;
    }

    /// <summary>Joins this node to the cluster of the seed at <paramref name="address"/> (akka.tcp://name@host:port or host:port).</summary>
    public void JoinSeed(string address)
    {
        var system = RunningSystem;
        string full = address.Contains("://", StringComparison.Ordinal) ? address : $"akka.tcp://{_settings.ClusterName}@{address}";
        Address parsed;
        try { parsed = Address.Parse(full); }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException) { throw new ArgumentException($"invalid address '{address}': expected host:cluster-port", e); }
        if (parsed.Host is null || parsed.Port is not (> 0 and <= 65535))
            throw new ArgumentException($"invalid address '{address}': expected host:cluster-port");
        if (parsed.System != _settings.ClusterName)
            throw new ArgumentException($"'{address}' is in cluster '{parsed.System}'; this node is in '{_settings.ClusterName}'");
        Akka.Cluster.Cluster.Get(system).Join(parsed);
    }

    private static Member? FindMember(Akka.Cluster.Cluster cluster, string memberId) =>
        cluster.State.Members.FirstOrDefault(m => MemberRoles.TryDecode(m, out var node, out _) && node.Id == memberId);
}
