using System.Security.Cryptography;
using System.Text;

namespace AkkaCache.Cluster.Sharding;

/// <summary>
/// A node as the cluster knows it: the name it was started with (<c>--node-id</c>), the endpoint clients are sent to
/// (<c>--announce</c>) and its zone. <see cref="RedisId"/> is the 40-hex-digit id Redis Cluster clients expect.
/// </summary>
public sealed record ClusterMember(string Id, string Host, int Port, string? Zone = null)
{
    /// <summary>
    /// The Akka cluster uid of this member's actor system. A node downed and joined again is a new incarnation: the
    /// map's assignments to the old one are not its own.
    /// </summary>
    public long Incarnation { get; init; }

    [System.Text.Json.Serialization.JsonIgnore] public string RedisId { get; } = ToRedisId(Id);

    [System.Text.Json.Serialization.JsonIgnore] public string Endpoint => $"{Host}:{Port}";

    /// <summary>An id that already is 40 lower-case hex digits is kept; any other name is hashed into one, stably.</summary>
    public static string ToRedisId(string id)
    {
        if (id.Length == 40 && id.All(char.IsAsciiHexDigitLower)) return id;
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(id)));
    }
}
