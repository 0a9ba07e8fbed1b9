using AkkaCache.Core.Eviction;

namespace AkkaCache.Core.Tests.Eviction;

public sealed class EvictionPolicyNamesTests
{
    [Theory]
    [InlineData("noeviction", EvictionPolicyKind.NoEviction)]
    [InlineData("allkeys-lru", EvictionPolicyKind.AllKeysLru)]
    [InlineData("allkeys-lfu", EvictionPolicyKind.AllKeysLfu)]
    [InlineData("allkeys-random", EvictionPolicyKind.AllKeysRandom)]
    [InlineData("volatile-lru", EvictionPolicyKind.VolatileLru)]
    [InlineData("volatile-lfu", EvictionPolicyKind.VolatileLfu)]
    [InlineData("volatile-ttl", EvictionPolicyKind.VolatileTtl)]
    [InlineData("volatile-random", EvictionPolicyKind.VolatileRandom)]
    public void Round_trips_every_redis_name(string name, EvictionPolicyKind kind)
    {
        Assert.True(EvictionPolicyNames.TryParse(name, out var parsed));
        Assert.Equal(kind, parsed);
        Assert.Equal(name, EvictionPolicyNames.ToRedisName(kind));
        Assert.True(EvictionPolicyNames.TryParse(name.ToUpperInvariant(), out parsed));
        Assert.Equal(kind, parsed);
        Assert.Equal(kind, EvictionPolicy.Create(kind, 100).Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lru")]
    [InlineData("allkeys")]
    [InlineData("allkeys-lru2")]
    public void Rejects_unknown_names(string name) => Assert.False(EvictionPolicyNames.TryParse(name, out _));

    [Fact]
    public void Unknown_kind_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EvictionPolicyNames.ToRedisName((EvictionPolicyKind)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvictionPolicy.Create((EvictionPolicyKind)42, 1));
    }
}
