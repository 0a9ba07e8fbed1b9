using AkkaCache.Protocol;
using System.Text;
using AkkaCache.Core.Eviction;
using AkkaCache.Core.Keyspace;
using AkkaCache.Core.Storage;

namespace AkkaCache.Core.Tests.Storage;

public sealed class CacheEngineTests
{
    private sealed class FixedClock(long ms) : TimeProvider
    {
        public long Ms { get; set; } = ms;
        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(Ms);
    }

    private static void Write(CacheEngine engine, string key, byte[] value, long expireAt = 0)
    {
        var k = Encoding.UTF8.GetBytes(key);
        var table = engine.ShardOf(k).Table;
        Assert.Equal(WriteStatus.Ok, table.Set(k, EntryTable.Hash(k), value, expireAt, engine.NowMs, out _));
    }

    /// <summary>Runs every shard's queued maintenance and waits for the mailboxes to drain.</summary>
    private static void TickAndDrain(CacheEngine engine)
    {
        engine.Tick();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!engine.Shards.All(s => s.IsIdle))
        {
            Assert.True(DateTime.UtcNow < deadline, "shards did not drain their mailboxes");
            Thread.Yield();
        }
    }

    [Fact]
    public void Keys_map_to_the_shard_of_their_redis_cluster_slot()
    {
        var engine = new CacheEngine(new CacheEngineOptions { ShardCount = 1024 }, new FixedClock(0));
        Assert.Equal(12182, HashSlot.Of("foo"u8));
        Assert.Equal(11058, HashSlot.Of("somekey"u8)); // values from the Redis CLUSTER KEYSLOT documentation
        Assert.Equal(2515, HashSlot.Of("foo{hash_tag}"u8));
        Assert.Equal(HashSlot.Of("{user1000}.following"u8), HashSlot.Of("{user1000}.followers"u8));
        Assert.Equal(12182 / 16, engine.Layout.ShardOfKey("foo"u8));
        Assert.Equal(HashSlot.Of("{}x"u8), HashSlot.Crc16("{}x"u8) & 16383);
        Assert.Equal(HashSlot.Of("a{b}c"u8), HashSlot.Of("b"u8));
    }

    [Fact]
    public void A_node_flooded_past_its_budget_comes_back_under_it_with_a_small_slack()
    {
        const long budget = 4 * 1024 * 1024;
        var clock = new FixedClock(1_000);
        using var engine = new CacheEngine(new CacheEngineOptions { ShardCount = 64, MaxMemory = budget }, clock);
        var value = new byte[200];
        for (int i = 0; i < 200_000; i++) Write(engine, "key:" + i, value);
        TickAndDrain(engine);
        long slack = budget / 20;
        Assert.True(engine.Memory.Allocated <= budget + slack, $"allocated {engine.Memory.Allocated} > {budget} + {slack}");
        Assert.True(engine.KeyCount > 5000, $"only {engine.KeyCount} keys kept");
        Assert.Equal(engine.Shards.Sum(s => s.Table.AllocatedBytes), engine.Memory.Allocated);
    }

    [Fact]
    public void A_value_larger_than_a_shard_share_is_still_accepted()
    {
        var clock = new FixedClock(1_000);
        using var engine = new CacheEngine(new CacheEngineOptions { ShardCount = 1024, MaxMemory = 8 * 1024 * 1024 }, clock);
        var small = new byte[100];
        for (int i = 0; i < 100_000; i++) Write(engine, "fill:" + i, small);
        var big = new byte[1024 * 1024];
        big[0] = 42;
        Write(engine, "big", big);
        var table = engine.ShardOf("big"u8).Table;
        int id = table.Find("big"u8, EntryTable.Hash("big"u8), clock.Ms);
        Assert.Equal(42, table.Value(id)[0]);
        TickAndDrain(engine);
        Assert.True(engine.Memory.Allocated <= 8 * 1024 * 1024 * 21 / 20, $"allocated {engine.Memory.Allocated}");
    }

    [Fact]
    public void The_maintenance_tick_expires_keys_in_every_shard()
    {
        var clock = new FixedClock(1_000);
        using var engine = new CacheEngine(new CacheEngineOptions { ShardCount = 16 }, clock);
        for (int i = 0; i < 1000; i++) Write(engine, "k" + i, [1], expireAt: 2_000 + i);
        Write(engine, "stays", [1]);
        clock.Ms = 10_000;
        for (int i = 0; i < 10 && engine.KeyCount > 1; i++) TickAndDrain(engine);
        Assert.Equal(1, engine.KeyCount);
        Assert.Equal(1000, engine.Shards.Sum(s => s.Table.ExpiredCount));
    }

    [Fact]
    public void Changing_the_policy_reaches_every_shard()
    {
        using var engine = new CacheEngine(new CacheEngineOptions { ShardCount = 8 }, new FixedClock(0));
        engine.MaxMemoryPolicy = EvictionPolicyKind.AllKeysLfu;
        TickAndDrain(engine);
        Assert.All(engine.Shards, s => Assert.Equal(EvictionPolicyKind.AllKeysLfu, s.Table.PolicyKind));
    }
}
