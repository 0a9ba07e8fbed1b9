using AkkaCache.Cluster.Sharding;

namespace AkkaCache.Cluster.Tests;

public sealed class ShardMapTests
{
    [Fact]
    public void Json_round_trip_keeps_assignments_members_and_epoch()
    {
        var map = ShardMap.Empty(4, 1) with
        {
            Epoch = 7,
            Members = [new ClusterMember("a", "127.0.0.1", 7000, "z1"), new ClusterMember("b", "127.0.0.1", 7001)],
        };
        map.Shards[0] = new ShardAssignment { Primary = "a", Replicas = ["b"] };
        map.Shards[1] = new ShardAssignment { Primary = "b", MigratingTo = "a" };

        var copy = ShardMap.FromJson(map.ToJson());

        Assert.Equal(7, copy.Epoch);
        Assert.Equal(1, copy.ReplicaCount);
        Assert.Equal(4, copy.ShardCount);
        Assert.Equal("a", copy.Shards[0].Primary);
        Assert.Equal(["b"], copy.Shards[0].Replicas);
        Assert.Equal("a", copy.Shards[1].MigratingTo);
        Assert.Null(copy.Shards[2].Primary);
        Assert.Equal("z1", copy.Member("a")!.Zone);
        Assert.Equal(7001, copy.Member("b")!.Port);
    }

    [Fact]
    public void Redis_ids_are_forty_hex_digits_and_stable()
    {
        var id = ClusterMember.ToRedisId("node-1");
        Assert.Equal(40, id.Length);
        Assert.True(id.All(char.IsAsciiHexDigitLower));
        Assert.Equal(id, new ClusterMember("node-1", "h", 1).RedisId);
        Assert.NotEqual(id, ClusterMember.ToRedisId("node-2"));
        Assert.Equal(id, ClusterMember.ToRedisId(id));
    }
}
