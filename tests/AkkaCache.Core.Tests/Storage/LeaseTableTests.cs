using System.Text;
using AkkaCache.Core.Eviction;
using AkkaCache.Core.Storage;

namespace AkkaCache.Core.Tests.Storage;

public sealed class LeaseTableTests
{
    private const long Now = 1_000_000;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void The_first_acquire_creates_the_others_see_the_same_token_until_it_expires()
    {
        var leases = new LeaseTable();
        long token = leases.Acquire(B("k"), 100, Now, out bool created);
        Assert.True(created);
        Assert.Equal(token, leases.Acquire(B("k"), 100, Now + 99, out created));
        Assert.False(created);
        Assert.True(leases.IsValid(B("k"), token, Now + 99));
        Assert.False(leases.IsValid(B("k"), token, Now + 100));
        long next = leases.Acquire(B("k"), 100, Now + 100, out created);
        Assert.True(created);
        Assert.NotEqual(token, next);
        Assert.Equal(1, leases.Count);
    }

    [Fact]
    public void The_table_is_bounded_and_drops_the_oldest()
    {
        var leases = new LeaseTable(maxLeases: 3);
        var tokens = Enumerable.Range(0, 5).Select(i => leases.Acquire(B($"k{i}"), 1000, Now, out _)).ToArray();
        Assert.Equal(3, leases.Count);
        Assert.Equal(2, leases.Dropped);
        Assert.False(leases.IsValid(B("k0"), tokens[0], Now));
        Assert.False(leases.IsValid(B("k1"), tokens[1], Now));
        Assert.True(leases.IsValid(B("k4"), tokens[4], Now));
    }

    [Fact]
    public void Lease_keys_are_bounded_by_bytes_and_accounted()
    {
        long accounted = 0;
        var leases = new LeaseTable(account: delta => accounted += delta);
        var big = new byte[LeaseTable.MaxLeaseBytes / 3];
        for (int i = 0; i < 5; i++)
        {
            big[0] = (byte)i;
            leases.Acquire(big, 1000, Now, out _);
        }
        Assert.True(leases.LeaseBytes <= LeaseTable.MaxLeaseBytes);
        Assert.Equal(accounted, leases.LeaseBytes);
        Assert.Equal(leases.Count, (int)(leases.LeaseBytes / (big.Length + 64)));
        for (int i = 0; i < 5; i++)
        {
            big[0] = (byte)i;
            leases.Invalidate(big);
        }
        // no lease left: the key arrays are let go and the memory given back
        Assert.Equal(0, leases.Count);
        Assert.Equal(0, leases.LeaseBytes);
        Assert.Equal(0, accounted);
    }

    [Fact]
    public void Every_write_path_of_the_entry_table_drops_the_lease()
    {
        var table = new EntryTable(new MemoryBudget(), EvictionPolicyKind.AllKeysLru, Now);
        var key = B("k");
        uint hash = EntryTable.Hash(key);

        long Lease() => table.Leases.Acquire(key, 10_000, Now, out _);

        long token = Lease();
        Assert.Equal(WriteStatus.Ok, table.Set(key, hash, B("v"), 0, Now, out int id));
        Assert.False(table.Leases.IsValid(key, token, Now));

        // a lease taken while the key exists (not what AC.GETL does, but the table must not care)
        token = Lease();
        table.Replace(id, B("w"), 0);
        Assert.False(table.Leases.IsValid(key, token, Now));
        token = Lease();
        table.ResizeValue(id, 3, 1, out _);
        Assert.False(table.Leases.IsValid(key, token, Now));
        token = Lease();
        table.SetExpireAt(id, Now + 50);
        Assert.False(table.Leases.IsValid(key, token, Now));
        token = Lease();
        Assert.Equal(1, table.ExpireDue(Now + 100, 10));
        Assert.False(table.Leases.IsValid(key, token, Now));
        token = Lease();
        Assert.False(table.Delete(key, hash, Now)); // absent: still an invalidation
        Assert.False(table.Leases.IsValid(key, token, Now));
        token = Lease();
        table.Clear();
        Assert.False(table.Leases.IsValid(key, token, Now));
        Assert.True(table.Leases.IsEmpty);
    }

    [Fact]
    public void Stale_values_are_bounded_accounted_and_dropped_by_a_write()
    {
        var budget = new MemoryBudget();
        var table = new EntryTable(budget, EvictionPolicyKind.AllKeysLru, Now) { LeaseStaleMs = 1000 };
        long before = table.AllocatedBytes;
        for (int i = 0; i < LeaseTable.MaxStaleValues + 10; i++)
        {
            var key = B($"k{i}");
            table.Set(key, EntryTable.Hash(key), B("value"), 0, Now, out _);
            Assert.True(table.Delete(key, EntryTable.Hash(key), Now));
        }
        Assert.Equal(LeaseTable.MaxStaleValues, table.Leases.StaleCount);
        Assert.False(table.Leases.TryGetStale(B("k0"), Now, out _));
        Assert.True(table.Leases.TryGetStale(B("k1030"), Now, out var stale));
        Assert.Equal("value", Encoding.UTF8.GetString(stale));
        Assert.True(table.AllocatedBytes - before >= table.Leases.StaleBytes);

        var fresh = B("k1030");
        table.Set(fresh, EntryTable.Hash(fresh), B("new"), 0, Now, out _);
        Assert.False(table.Leases.TryGetStale(fresh, Now, out _));
        Assert.False(table.Leases.TryGetStale(B("k1029"), Now + 1000, out _));

        var big = new byte[LeaseTable.MaxStaleBytes / 2];
        for (int i = 0; i < 3; i++)
        {
            var key = B($"big{i}");
            table.Set(key, EntryTable.Hash(key), big, 0, Now, out _);
            table.Delete(key, EntryTable.Hash(key), Now);
        }
        Assert.True(table.Leases.StaleBytes <= LeaseTable.MaxStaleBytes);
        Assert.True(table.Leases.TryGetStale(B("big2"), Now, out _));
    }
}
