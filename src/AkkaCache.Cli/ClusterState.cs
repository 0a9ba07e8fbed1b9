using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AkkaCache.Cli;

/// <summary>The reply of AC.CLUSTERSTATE: Akka's membership and the shard map as the answering node sees them (the node's ClusterState, read back).</summary>
public sealed record ClusterStateReply
{
    [JsonPropertyName("cluster")] public string Cluster { get; init; } = "";
    [JsonPropertyName("epoch")] public long Epoch { get; init; }
    [JsonPropertyName("leader")] public string? Leader { get; init; }
    [JsonPropertyName("self")] public string? Self { get; init; }
    [JsonPropertyName("shardCount")] public int ShardCount { get; init; }
    [JsonPropertyName("replicaCount")] public int ReplicaCount { get; init; }
    [JsonPropertyName("members")] public MemberReply[] Members { get; init; } = [];
    [JsonPropertyName("shards")] public ShardReply[] Shards { get; init; } = [];
    [JsonPropertyName("pins")] public Dictionary<int, string> Pins { get; init; } = [];

    public MemberReply? Member(string id) => Members.FirstOrDefault(m => m.Id == id);

    /// <summary>The member named <paramref name="id"/>; an unknown id is a <see cref="CliException"/> listing the known ones.</summary>
    public MemberReply RequireMember(string id) => Member(id) ?? throw new CliException(ExitCodes.NodeError,
        $"unknown node '{id}' in cluster '{Cluster}'; known nodes: {string.Join(", ", Members.Select(m => m.Id))} (see akkacache cluster show)");

    public int PrimaryCount(string id) => Shards.Count(s => s.Primary == id);

    public int ReplicaShardCount(string id) => Shards.Count(s => s.Replicas.Contains(id));

    /// <summary>Shards <paramref name="id"/> holds in any role, or is importing.</summary>
    public int HeldCount(string id) => Shards.Count(s => s.Primary == id || s.MigratingTo == id || s.Replicas.Contains(id));

    public static ClusterStateReply Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ClusterStateReply>(json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.NodeError, $"the node's answer to AC.CLUSTERSTATE is not the state this tool reads ({e.Message}); is the tool the same version as the server?", e);
        }
    }
}

public sealed record MemberReply
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("host")] public string Host { get; init; } = "";
    [JsonPropertyName("port")] public int Port { get; init; }
    [JsonPropertyName("zone")] public string? Zone { get; init; }
    [JsonPropertyName("address")] public string? Address { get; init; }
    /// <summary>Akka's member status (Joining, WeaklyUp, Up, Leaving, Exiting, Down, Removed) or Unreachable.</summary>
    [JsonPropertyName("status")] public string Status { get; init; } = "Removed";
    [JsonPropertyName("roles")] public string[] Roles { get; init; } = [];
    [JsonPropertyName("incarnation")] public long Incarnation { get; init; }
    [JsonPropertyName("registered")] public bool Registered { get; init; }
    [JsonPropertyName("inMap")] public bool InMap { get; init; }
    [JsonPropertyName("leaving")] public bool Leaving { get; init; }
    /// <summary>The answering node's own quorum lease left, in ms; -1 for the other members.</summary>
    [JsonPropertyName("leaseMs")] public long LeaseMs { get; init; } = -1;

    public string Endpoint => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

public sealed record ShardReply
{
    [JsonPropertyName("p")] public string? Primary { get; init; }
    [JsonPropertyName("r")] public string[] Replicas { get; init; } = [];
    [JsonPropertyName("m")] public string? MigratingTo { get; init; }
}

/// <summary>INFO's "field:value" lines.</summary>
public sealed class InfoFields
{
    private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);

    public InfoFields(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            int colon = trimmed.IndexOf(':');
            if (colon > 0 && !trimmed.StartsWith('#')) _fields[trimmed[..colon]] = trimmed[(colon + 1)..];
        }
    }

    public string? this[string name] => _fields.GetValueOrDefault(name);

    public long Long(string name) => long.TryParse(this[name], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : 0;

    /// <summary>Keys of db0 ("keys=12,expires=0,avg_ttl=0").</summary>
    public long Keys => this["db0"] is { } db && db.Split(',').FirstOrDefault(p => p.StartsWith("keys=", StringComparison.Ordinal)) is { } keys
        && long.TryParse(keys.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out long count) ? count : 0;

    /// <summary>Redis's latencystats lines: command → (p50, p99) in microseconds; empty when the node does not report them.</summary>
    public Dictionary<string, (double P50, double P99)> Latencies()
    {
        const string prefix = "latency_percentiles_usec_";
        var result = new Dictionary<string, (double, double)>(StringComparer.Ordinal);
        foreach (var (name, value) in _fields)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            double p50 = double.NaN, p99 = double.NaN;
            foreach (var part in value.Split(','))
            {
                var pair = part.Split('=');
                if (pair.Length != 2 || !double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double micros)) continue;
                if (pair[0] == "p50") p50 = micros;
                else if (pair[0] == "p99") p99 = micros;
            }
            result[name[prefix.Length..]] = (p50, p99);
        }
        return result;
    }
}
