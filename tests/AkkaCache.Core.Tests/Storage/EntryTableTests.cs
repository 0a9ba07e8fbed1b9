using System.Text;
using AkkaCache.Core.Eviction;
using AkkaCache.Core.Storage;

namespace AkkaCache.Core.Tests.Storage;

public sealed class EntryTableTests
{
    private const long Now = 1_000_000;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static int Put(EntryTable table, string key, string value, long expireAt = 0)
    {
        var k = B(key);
        Assert.Equal(WriteStatus.Ok, table.Set(k, EntryTable.Hash(k), B(value), expireAt, Now, out int id));
        return id;
    }

    private static string? Get(EntryTable table, string key, long now = Now)
    {
        var k = B(key);
        int id = table.FindForRead(k, EntryTable.Hash(k), now);
        return id < 0 ? null : Encoding.UTF8.GetString(table.Value(id));
    }

    [Fact]
    public void Set_get_overwrite_and_delete_many_keys_with_growth_and_compaction()
    {
        var table = new EntryTable(new MemoryBudget(), EvictionPolicyKind.AllKeysLru, Now);
        var model = new Dictionary<string, string>();
        var random = new Random(42);
        for (int step = 0; step < 50_000; step++)
        {
            string key = "k" + random.Next(5000);
            switch (random.Next(4))
            {
                case 0:
                case 1:
                    string value = new string((char)('a' + random.Next(26)), random.Next(0, 300));
                    Put(table, key, value);
                    model[key] = value;
                    break;
                case 2:
                    var k = B(key);
                    Assert.Equal(model.Remove(key), table.Delete(k, EntryTable.Hash(k), Now));
                    break;
                default:
                    Assert.Equal(model.GetValueOrDefault(key), Get(table, key));
                    break;
            }
        }
        Assert.Equal(model.Count, table.Count);
        foreach (var (key, value) in model) Assert.Equal(value, Get(table, key));
        Assert.True(table.AllocatedBytes >= table.LiveBytes);
    }

    [Fact]
    public void Expired_entries_are_never_returned_and_are_removed_lazily()
    {
        var table = new EntryTable(new MemoryBudget(), EvictionPolicyKind.AllKeysLru, Now);
        Put(table, "a", "1", expireAt: Now + 100);
        Assert.Equal("1", Get(table, "a", Now + 99));
        Assert.Null(Get(table, "a", Now + 100));
        Assert.Equal(0, table.Count);
        Assert.Equal(1, table.ExpiredCount);
    }

    [Fact]
    public void The_timer_wheel_expires_due_entries_within_the_work_budget()
    {
        var table = new EntryTable(new MemoryBudget(), EvictionPolicyKind.AllKeysLru, Now);
        for (int i = 0; i < 100; i++) Put(table, "t" + i, "v", expireAt: Now + 1000 + i);
        Put(table, "persistent", "v");
        Assert.Equal(0, table.ExpireDue(Now + 999, 1000));
        Assert.Equal(10, table.ExpireDue(Now + 5000, 10));
        Assert.Equal(90, table.ExpireDue(Now + 5000, 1000));
        Assert.Equal(1, table.Count);
        Assert.Equal(0, table.VolatileCount);
    }

    [Fact]
    public void Versions_change_on_every_write_and_only_then()
    {
        var table = new EntryTable(new MemoryBudget(), EvictionPolicyKind.AllKeysLru, Now);
        int id = Put(table, "k", "1");
        long v1 = table.Version(id);
        Get(table, "k");
        Assert.Equal(v1, table.Version(id));
        Put(table, "k", "2");
        long v2 = table.Version(id);
        table.SetExpireAt(id, Now + 10);
        long v3 = table.Version(id);
        Assert.Equal(WriteStatus.Ok, table.ResizeValue(id, 3, 1, out var value));
        value[1..].Fill((byte)'x');
        long v4 = table.Version(id);
        Assert.Equal("2xx", Get(table, "k"));
        Assert.Equal(4, new[] { v1, v2, v3, v4 }.Distinct().Count());
        Assert.True(v1 < v2 && v2 < v3 && v3 < v4);
    }

    [Fact]
    public void A_flood_of_writes_stays_within_the_budget()
    {
        const long budget = 256 * 1024;
        var memory = new MemoryBudget(budget);
        var table = new EntryTable(memory, EvictionPolicyKind.AllKeysLru, Now);
        var value = new string('v', 100);
        for (int i = 0; i < 100_000; i++) Put(table, "key:" + i, value);
        Assert.True(table.EvictedCount > 90_000);
        Assert.True(memory.Allocated <= budget, $"allocated {memory.Allocated} > budget {budget}");
        Assert.Equal(memory.Allocated, table.AllocatedBytes);
        // the most recent writes survive under LRU
        Assert.Equal(value, Get(table, "key:99999"));
        Assert.Null(Get(table, "key:0"));
    }

    [Fact]
    public void Lru_evicts_the_least_recently_used_first()
    {
        var memory = new MemoryBudget(64 * 1024);
        var table = new EntryTable(memory, EvictionPolicyKind.AllKeysLru, Now);
        var value = new string('v', 200);
        Put(table, "hot", value);
        for (int i = 0; i < 2000; i++)
        {
            Put(table, "cold:" + i, value);
            Assert.NotNull(Get(table, "hot")); // read keeps it young
        }
        Assert.True(table.EvictedCount > 0);
        Assert.Equal(value, Get(table, "hot"));
        Assert.Null(Get(table, "cold:0"));
    }

    [Fact]
    public void Noeviction_refuses_writes_at_the_budget_and_keeps_what_it_has()
    {
        var memory = new MemoryBudget(32 * 1024);
        var table = new EntryTable(memory, EvictionPolicyKind.NoEviction, Now);
        var value = B(new string('v', 100));
        int stored = 0;
        WriteStatus status = WriteStatus.Ok;
        for (int i = 0; i < 10_000 && status == WriteStatus.Ok; i++)
        {
            var key = B("k" + i);
            status = table.Set(key, EntryTable.Hash(key), value, 0, Now, out _);
            if (status == WriteStatus.Ok) stored++;
        }
        Assert.Equal(WriteStatus.OutOfMemory, status);
        Assert.Equal(stored, table.Count);
        Assert.Equal(0, table.EvictedCount);
        Assert.True(memory.Allocated <= 32 * 1024);
        Assert.Equal(new string('v', 100), Get(table, "k0"));
    }

    [Fact]
    public void Volatile_policies_evict_only_keys_with_a_ttl_and_refuse_when_none_is_left()
    {
        foreach (var kind in new[] { EvictionPolicyKind.VolatileLru, EvictionPolicyKind.VolatileTtl, EvictionPolicyKind.VolatileRandom, EvictionPolicyKind.VolatileLfu })
        {
            var memory = new MemoryBudget(48 * 1024);
            var table = new EntryTable(memory, kind, Now);
            var value = new string('v', 100);
            for (int i = 0; i < 50; i++) Put(table, "persistent:" + i, value);
            var status = WriteStatus.Ok;
            for (int i = 0; i < 5000 && status == WriteStatus.Ok; i++)
            {
                var key = B("volatile:" + i);
                status = table.Set(key, EntryTable.Hash(key), B(value), Now + 1_000_000 + i, Now, out _);
            }
            for (int i = 0; i < 50; i++) Assert.Equal(value, Get(table, "persistent:" + i));
            Assert.True(table.EvictedCount > 0, kind.ToString());
            Assert.True(memory.Allocated <= 48 * 1024, kind.ToString());
        }
    }

    [Fact]
    public void Volatile_ttl_evicts_the_soonest_expiring_first()
    {
        var memory = new MemoryBudget(32 * 1024);
        var table = new EntryTable(memory, EvictionPolicyKind.VolatileTtl, Now);
        var value = new string('v', 100);
        Put(table, "long-lived", value, Now + 10_000_000);
        for (int i = 0; i < 3000; i++) Put(table, "short:" + i, value, Now + 1000 + i);
        Assert.True(table.EvictedCount > 0);
        Assert.Equal(value, Get(table, "long-lived"));
    }

    [Fact]
    public void Clear_gives_the_memory_back()
    {
        var memory = new MemoryBudget();
        var table = new EntryTable(memory, EvictionPolicyKind.AllKeysLru, Now);
        long initial = memory.Allocated;
        for (int i = 0; i < 10_000; i++) Put(table, "k" + i, "value");
        Assert.True(memory.Allocated > initial);
        table.Clear();
        Assert.Equal(0, table.Count);
        Assert.Equal(initial, memory.Allocated);
        Assert.Null(Get(table, "k1"));
    }

    [Fact]
    public void Changing_the_policy_keeps_every_entry()
    {
        var table = new EntryTable(new MemoryBudget(), EvictionPolicyKind.AllKeysLru, Now);
        for (int i = 0; i < 1000; i++) Put(table, "k" + i, "v" + i, i % 2 == 0 ? Now + 5000 : 0);
        table.ChangePolicy(EvictionPolicyKind.AllKeysLfu);
        Assert.Equal(EvictionPolicyKind.AllKeysLfu, table.PolicyKind);
        for (int i = 0; i < 1000; i++) Assert.Equal("v" + i, Get(table, "k" + i));
    }
}
