using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AkkaCache.Cluster.Etcd;
using AkkaCache.Cluster.Sharding;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Cluster.ControlPlane;

/// <summary>One member as etcd and the shard map know it (the <c>akkacache</c> tool's view, AC.CLUSTERSTATE).</summary>
public sealed record MemberState
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("host")] public required string Host { get; init; }
    [JsonPropertyName("port")] public int Port { get; init; }
    [JsonPropertyName("zone")] public string? Zone { get; init; }
    /// <summary>The lease it registered under (0 when it is not registered).</summary>
    [JsonPropertyName("incarnation")] public long Incarnation { get; init; }
    /// <summary>Holds a live lease at etcd.</summary>
    [JsonPropertyName("registered")] public bool Registered { get; init; }
    /// <summary>Named by the current shard map under this incarnation.</summary>
    [JsonPropertyName("inMap")] public bool InMap { get; init; }
    [JsonPropertyName("leaving")] public bool Leaving { get; init; }
    /// <summary>Seconds left on the lease (-1 when not registered).</summary>
    [JsonPropertyName("leaseTtl")] public long LeaseTtl { get; init; } = -1;
    /// <summary>Seconds the lease is granted for at each renewal.</summary>
    [JsonPropertyName("leaseGranted")] public long LeaseGranted { get; init; }
}

/// <summary>The control plane as etcd holds it right now: members, leader, map.</summary>
public sealed record ClusterState
{
    [JsonPropertyName("cluster")] public required string Cluster { get; init; }
    [JsonPropertyName("epoch")] public long Epoch { get; init; }
    [JsonPropertyName("leader")] public string? Leader { get; init; }
    [JsonPropertyName("shardCount")] public int ShardCount { get; init; }
    [JsonPropertyName("replicaCount")] public int ReplicaCount { get; init; }
    [JsonPropertyName("members")] public MemberState[] Members { get; init; } = [];
    [JsonPropertyName("shards")] public ShardAssignment[] Shards { get; init; } = [];
    /// <summary>Shards an operator pinned to a member (shard number → member id).</summary>
    [JsonPropertyName("pins")] public Dictionary<int, string> Pins { get; init; } = [];

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ClusterStateJson.Default.ClusterState);
}

/// <summary>What <see cref="ClusterAgent.DownAsync"/> did.</summary>
public enum DownOutcome
{
    /// <summary>The member's lease was revoked: the leader fails its shards over now. The member did not answer (dead,
    /// paused, cut off): it stops serving when its next lease renewal finds the lease gone, or its lease deadline passes.</summary>
    Revoked,
    /// <summary>As <see cref="Revoked"/>, and the member answered: it stopped serving at once.</summary>
    RevokedAndFenced,
    /// <summary>The member holds no lease any more; its shards fail over (or already did) without help.</summary>
    AlreadyDown,
    /// <summary>Neither etcd nor the map knows the member.</summary>
    Unknown,
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClusterState))]
internal sealed partial class ClusterStateJson : JsonSerializerContext;

/// <summary>The operator's questions and orders (the <c>akkacache</c> tool): read from and written to etcd, never from this node's cache of it.</summary>
public sealed partial class ClusterAgent
{
    /// <summary>Members (registered or still in the map), the leader and the map, read from etcd now.</summary>
    public async Task<ClusterState> ReadStateAsync(CancellationToken cancellation = default)
    {
        var registered = new Dictionary<string, ClusterMember>();
        foreach (var item in (await _etcd.GetPrefixAsync(_membersPrefix, cancellation)).Items)
        {
            var member = JsonSerializer.Deserialize(item.Value, ShardMapJson.Default.ClusterMember)!;
            registered[member.Id] = member;
        }
        var leaving = new HashSet<string>();
        foreach (var item in (await _etcd.GetPrefixAsync(_leavingPrefix, cancellation)).Items) leaving.Add(item.Key[_leavingPrefix.Length..]);
        var stored = await _etcd.GetAsync(_mapKey, cancellation);
        var map = stored is null ? ShardMap.Empty(_settings.ShardCount, _settings.ReplicaCount) : ShardMap.FromJson(stored.Value);
        var leaderKey = await _etcd.GetAsync(_leaderKey, cancellation);
        string? leader = leaderKey is null ? null : Encoding.UTF8.GetString(leaderKey.Value).Split(' ')[0];

        var ids = map.Members.Select(m => m.Id).Concat(registered.Keys.Order(StringComparer.Ordinal)).Distinct().ToList();
        var members = new List<MemberState>(ids.Count);
        foreach (var id in ids)
        {
            var live = registered.GetValueOrDefault(id);
            var known = live ?? map.Member(id)!;
            var lease = live is null ? null : await _etcd.LeaseTimeToLiveAsync(live.Incarnation, cancellation);
            members.Add(new MemberState
            {
                Id = id,
                Host = known.Host,
                Port = known.Port,
                Zone = known.Zone,
                Incarnation = live?.Incarnation ?? 0,
                Registered = live is not null && lease is not null,
                InMap = live is not null && map.Member(id)?.Incarnation == live.Incarnation,
                Leaving = leaving.Contains(id),
                LeaseTtl = lease?.Remaining ?? -1,
                LeaseGranted = lease?.Granted ?? 0,
            });
        }
        return new ClusterState
        {
            Cluster = _settings.ClusterName,
            Epoch = map.Epoch,
            Leader = leader,
            ShardCount = map.ShardCount,
            ReplicaCount = map.ReplicaCount,
            Members = [.. members],
            Shards = map.Shards,
            Pins = await ReadPinsAsync(cancellation),
        };
    }

    private async Task<Dictionary<int, string>> ReadPinsAsync(CancellationToken cancellation)
    {
        var pins = new Dictionary<int, string>();
        foreach (var item in (await _etcd.GetPrefixAsync(_pinsPrefix, cancellation)).Items)
            if (int.TryParse(item.Key.AsSpan(_pinsPrefix.Length), out int shard)) pins[shard] = item.ValueText;
        return pins;
    }

    /// <summary>
    /// Pins <paramref name="shard"/> to <paramref name="memberId"/> (<c>akkacache shards move</c>): the leader migrates it
    /// there and keeps it there, evening out the load with other shards. The pin lasts until <see cref="UnpinAsync"/> or
    /// another pin of the shard; while the member is down or leaving it is ignored.
    /// </summary>
    /// <exception cref="ArgumentException">No such shard, or the member is not live, or it is leaving.</exception>
    public async Task PinAsync(int shard, string memberId, CancellationToken cancellation = default)
    {
        if (shard < 0 || shard >= _settings.ShardCount)
            throw new ArgumentException($"no shard {shard}: this cluster has shards 0..{_settings.ShardCount - 1}");
        if (await _etcd.GetAsync(_membersPrefix + memberId, cancellation) is null)
            throw new ArgumentException($"unknown node '{memberId}' (not a live member)");
        if (await _etcd.GetAsync(_leavingPrefix + memberId, cancellation) is not null)
            throw new ArgumentException($"node '{memberId}' is leaving the cluster");
        await _etcd.PutAsync(_pinsPrefix + shard.ToString(System.Globalization.CultureInfo.InvariantCulture), memberId, 0, cancellation);
    }

    /// <summary>Lets the balancer move <paramref name="shard"/> again; false when it was not pinned.</summary>
    public async Task<bool> UnpinAsync(int shard, CancellationToken cancellation = default) =>
        await _etcd.DeleteAsync(_pinsPrefix + shard.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellation) > 0;

    /// <summary>
    /// Declares another member dead now: revokes its lease, which deletes its member record (and the leader key, if it
    /// held it), so the leader promotes replicas of its shards at once instead of at lease expiry. The member itself
    /// finds its lease gone at its next renewal and fences (drops every shard, rejoins empty as a new incarnation).
    /// </summary>
    /// <exception cref="ArgumentException">The member is this node (CLUSTER LEAVE is the way out for it).</exception>
    public async Task<DownOutcome> DownAsync(string memberId, CancellationToken cancellation = default)
    {
        if (memberId == _settings.Self.Id)
            throw new ArgumentException("this is the node you are connected to; use CLUSTER LEAVE on it, or CLUSTER DOWN on another node");
        var record = await _etcd.GetAsync(_membersPrefix + memberId, cancellation);
        if (record is null)
        {
            var stored = await _etcd.GetAsync(_mapKey, cancellation);
            bool inMap = stored is not null && ShardMap.FromJson(stored.Value).Member(memberId) is not null;
            return inMap ? DownOutcome.AlreadyDown : DownOutcome.Unknown;
        }
        // revoke first: fenced before the revoke, the member could still renew its lease in between and serve on
        await _etcd.RevokeLeaseAsync(record.Lease, cancellation);
        var member = JsonSerializer.Deserialize(record.Value, ShardMapJson.Default.ClusterMember)!;
        var fenced = await PeerQuery.AskAsync(member.Host, member.Port, _settings.Password,
            [FenceCommand, record.Lease.ToString(System.Globalization.CultureInfo.InvariantCulture)], FenceTimeout, cancellation);
        return fenced is { IsError: false } ? DownOutcome.RevokedAndFenced : DownOutcome.Revoked;
    }

    public const string FenceCommand = "AC.FENCE";

    /// <summary>How long CLUSTER DOWN waits for the member to confirm it stopped (a dead or paused one never does).</summary>
    private static readonly TimeSpan FenceTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Another node declared this one down (CLUSTER DOWN) and revoked its lease: stop serving now rather than at the next
    /// renewal; that renewal then finds the lease gone and the node rejoins empty, as a new incarnation. False when
    /// <paramref name="incarnation"/> is not this node's current lease (a stale order: ignored).
    /// </summary>
    public bool Fence(long incarnation)
    {
        if (incarnation != Incarnation) return false;
        Guard.Lost();
        _logger.LogWarning("declared down by another node (lease {Incarnation} revoked); refusing requests and rejoining as a new member", incarnation);
        return true;
    }
}
