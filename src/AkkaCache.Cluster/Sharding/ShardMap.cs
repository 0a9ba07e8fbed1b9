using System.Text.Json;
using System.Text.Json.Serialization;

namespace AkkaCache.Cluster.Sharding;

/// <summary>
/// Who holds one shard: its primary, its replicas, and, while the shard moves, the node importing it
/// (which receives the shard's entries and live writes like a replica until ownership switches at a new epoch).
/// </summary>
public sealed record ShardAssignment
{
    /// <summary>Member id of the primary; null when no live member holds the shard (its slots are not served).</summary>
    [JsonPropertyName("p")] public string? Primary { get; init; }

    [JsonPropertyName("r")] public string[] Replicas { get; init; } = [];

    /// <summary>Member id the shard is moving to, or null.</summary>
    [JsonPropertyName("m")] public string? MigratingTo { get; init; }

    public bool IsHeldBy(string member) => Primary == member || MigratingTo == member || Array.IndexOf(Replicas, member) >= 0;
}

/// <summary>
/// The cluster's shard map: written by the leader only, with an epoch that grows with every change, and watched by
/// every node. It carries the members it names, so a node can answer CLUSTER SLOTS and send -MOVED from the map alone.
/// </summary>
public sealed record ShardMap
{
    [JsonPropertyName("epoch")] public long Epoch { get; init; }

    [JsonPropertyName("replicas")] public int ReplicaCount { get; init; }

    [JsonPropertyName("members")] public ClusterMember[] Members { get; init; } = [];

    /// <summary>One assignment per shard; the shard count is fixed when the cluster is created.</summary>
    [JsonPropertyName("shards")] public ShardAssignment[] Shards { get; init; } = [];

    public int ShardCount => Shards.Length;

    public ClusterMember? Member(string? id)
    {
        if (id is null) return null;
        foreach (var member in Members)
            if (member.Id == id) return member;
        return null;
    }

    /// <summary>An empty map: no shard assigned.</summary>
    public static ShardMap Empty(int shardCount, int replicaCount) => new()
    {
        Epoch = 0,
        ReplicaCount = replicaCount,
        Shards = Enumerable.Range(0, shardCount).Select(_ => new ShardAssignment()).ToArray(),
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ShardMapJson.Default.ShardMap);

    public static ShardMap FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, ShardMapJson.Default.ShardMap) ?? throw new JsonException("The shard map is null.");
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ShardMap))]
[JsonSerializable(typeof(ClusterMember))]
internal sealed partial class ShardMapJson : JsonSerializerContext;
