using System.Globalization;
using Akka.Cluster;
using AkkaCache.Cluster.Sharding;

namespace AkkaCache.Cluster.Membership;

/// <summary>
/// What a cache node tells the cluster about itself, carried in its Akka roles so that every member learns it with
/// the membership gossip: the role <see cref="CacheRole"/>, and <c>ac-id=</c>, <c>ac-ep=</c>, <c>ac-zone=</c> and
/// <c>ac-shards=</c> entries for its node id, client endpoint, zone and shard count.
/// </summary>
public static class MemberRoles
{
    /// <summary>The role every cache node has; the app's other members of an embedding cluster do not.</summary>
    public const string CacheRole = "akkacache";

    private const string IdPrefix = "ac-id=", EndpointPrefix = "ac-ep=", ZonePrefix = "ac-zone=", ShardsPrefix = "ac-shards=";

    public static IReadOnlyList<string> Encode(ClusterMember self, int shardCount)
    {
        var roles = new List<string> { CacheRole, IdPrefix + self.Id, EndpointPrefix + self.Endpoint, ShardsPrefix + shardCount.ToString(CultureInfo.InvariantCulture) };
        if (self.Zone is not null) roles.Add(ZonePrefix + self.Zone);
        return roles;
    }

    /// <summary>The cache node <paramref name="member"/> is, with its incarnation (the Akka uid); false for a member that is not a cache node.</summary>
    public static bool TryDecode(Member member, out ClusterMember node, out int shardCount)
    {
        node = null!;
        shardCount = 0;
        if (!member.HasRole(CacheRole)) return false;
        string? id = null, endpoint = null, zone = null;
        foreach (var role in member.Roles)
        {
            if (role.StartsWith(IdPrefix, StringComparison.Ordinal)) id = role[IdPrefix.Length..];
            else if (role.StartsWith(EndpointPrefix, StringComparison.Ordinal)) endpoint = role[EndpointPrefix.Length..];
            else if (role.StartsWith(ZonePrefix, StringComparison.Ordinal)) zone = role[ZonePrefix.Length..];
            else if (role.StartsWith(ShardsPrefix, StringComparison.Ordinal)) _ = int.TryParse(role.AsSpan(ShardsPrefix.Length), CultureInfo.InvariantCulture, out shardCount);
        }
        int colon = endpoint?.LastIndexOf(':') ?? -1;
        if (id is null || colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), CultureInfo.InvariantCulture, out int port)) return false;
        node = new ClusterMember(id, endpoint![..colon].Trim('[', ']'), port, zone) { Incarnation = member.UniqueAddress.Uid };
        return true;
    }

    /// <summary>The roles of <paramref name="member"/> an operator would name (the cache role and the app's own), without the node's records.</summary>
    public static IEnumerable<string> Visible(Member member) => member.Roles.Where(r => !r.StartsWith("ac-", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
}
