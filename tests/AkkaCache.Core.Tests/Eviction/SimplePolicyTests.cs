using AkkaCache.Core.Eviction;

namespace AkkaCache.Core.Tests.Eviction;

public sealed class SimplePolicyTests
{
    private static readonly EvictionPolicyKind[] AllKinds = Enum.GetValues<EvictionPolicyKind>();

    public static TheoryData<EvictionPolicyKind> Kinds()
    {
        var data = new TheoryData<EvictionPolicyKind>();
        foreach (var kind in AllKinds)
        {
            data.Add(kind);
        }

        return data;
    }

    [Fact]
    public void NoEviction_never_selects()
    {
        var policy = EvictionPolicy.Create(EvictionPolicyKind.NoEviction, 1);
        for (int id = 0; id < 10; id++)
        {
            policy.OnInsert(id, (uint)id, 1, id % 2 == 0 ? 0 : 5000);
        }

        Assert.Equal(-1, policy.SelectVictim());
        Assert.Equal(0, policy.Frequency(3));
    }

    [Fact]
    public void Lru_evicts_in_recency_order_and_access_promotes()
    {
        var policy = EvictionPolicy.Create(EvictionPolicyKind.AllKeysLru, 10);
        for (int id = 0; id < 5; id++)
        {
            policy.OnInsert(id, (uint)id, 1, 0);
        }

        Assert.Equal(0, policy.SelectVictim());
        policy.OnAccess(0);               // 1 2 3 4 0
        policy.OnUpdate(1, 7, 0);         // 2 3 4 0 1: an update counts as an access
        policy.OnMiss(99);                // no effect
        var order = new List<int>();
        for (int i = 0; i < 5; i++)
        {
            int victim = policy.SelectVictim();
            order.Add(victim);
            policy.OnRemove(victim);
        }

        Assert.Equal([2, 3, 4, 0, 1], order);
        Assert.Equal(-1, policy.SelectVictim());
    }

    [Theory]
    [InlineData(EvictionPolicyKind.VolatileLru)]
    [InlineData(EvictionPolicyKind.VolatileRandom)]
    [InlineData(EvictionPolicyKind.VolatileTtl)]
    [InlineData(EvictionPolicyKind.VolatileLfu)]
    public void Volatile_kinds_never_pick_persistent_entries(EvictionPolicyKind kind)
    {
        var policy = EvictionPolicy.Create(kind, 10, randomSeed: 7);
        for (int id = 0; id < 20; id++)
        {
            policy.OnInsert(id, (uint)id, 1, 0); // persistent
        }

        Assert.Equal(-1, policy.SelectVictim());

        policy.OnUpdate(13, 1, 50_000);    // becomes volatile
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(13, policy.SelectVictim());
        }

        policy.OnInsert(20, 20, 1, 60_000);
        var seen = new HashSet<int>();
        for (int i = 0; i < 200; i++)
        {
            int victim = policy.SelectVictim();
            Assert.True(victim is 13 or 20, $"{kind} picked {victim}");
            seen.Add(victim);
            policy.OnAccess(victim);
        }

        policy.OnUpdate(13, 1, 0);         // persistent again (PERSIST)
        Assert.Equal(20, policy.SelectVictim());
        policy.OnRemove(20);
        Assert.Equal(-1, policy.SelectVictim());
        policy.OnRemove(5);                // removing a persistent entry is fine
        Assert.Equal(-1, policy.SelectVictim());
    }

    [Fact]
    public void Volatile_lru_orders_volatile_entries_by_recency()
    {
        var policy = EvictionPolicy.Create(EvictionPolicyKind.VolatileLru, 10);
        policy.OnInsert(0, 0, 1, 100);
        policy.OnInsert(1, 1, 1, 0);
        policy.OnInsert(2, 2, 1, 300);
        policy.OnInsert(3, 3, 1, 200);
        policy.OnAccess(0);
        policy.OnAccess(1);
        Assert.Equal(2, policy.SelectVictim());
        policy.OnRemove(2);
        Assert.Equal(3, policy.SelectVictim());
        policy.OnRemove(3);
        Assert.Equal(0, policy.SelectVictim());
    }

    [Fact]
    public void Volatile_ttl_picks_the_soonest_expiry_exactly()
    {
        var random = new Random(12345);
        var policy = EvictionPolicy.Create(EvictionPolicyKind.VolatileTtl, 10);
        var expiry = new Dictionary<int, long>();
        for (int step = 0; step < 20_000; step++)
        {
            int id = random.Next(300);
            int op = random.Next(10);
            if (op < 4)
            {
                if (expiry.ContainsKey(id))
                {
                    policy.OnRemove(id);
                    expiry.Remove(id);
                }

                long at = random.Next(4) == 0 ? 0 : random.Next(1, 1_000_000);
                policy.OnInsert(id, (uint)id, 1, at);
                expiry[id] = at;
            }
            else if (op < 7 && expiry.ContainsKey(id))
            {
                long at = random.Next(4) == 0 ? 0 : random.Next(1, 1_000_000);
                policy.OnUpdate(id, 1, at);
                expiry[id] = at;
            }
            else if (op < 9 && expiry.ContainsKey(id))
            {
                policy.OnRemove(id);
                expiry.Remove(id);
            }
            else
            {
                int victim = policy.SelectVictim();
                long soonest = long.MaxValue;
                foreach (var (_, at) in expiry)
                {
                    if (at != 0 && at < soonest)
                    {
                        soonest = at;
                    }
                }

                if (soonest == long.MaxValue)
                {
                    Assert.Equal(-1, victim);
                }
                else
                {
                    Assert.Equal(soonest, expiry[victim]);
                    policy.OnRemove(victim);
                    expiry.Remove(victim);
                }
            }
        }
    }

    [Fact]
    public void Volatile_lfu_prefers_rarely_used_volatile_entries()
    {
        var policy = EvictionPolicy.Create(EvictionPolicyKind.VolatileLfu, 100, randomSeed: 3);
        for (int id = 0; id < 10; id++)
        {
            policy.OnInsert(id, (uint)(1000 + id), 1, 10_000);
        }

        policy.OnInsert(10, 2000, 1, 0);
        for (int round = 0; round < 10; round++)
        {
            for (int id = 0; id < 10; id++)
            {
                if (id != 6)
                {
                    policy.OnAccess(id);
                }
            }

            policy.OnAccess(10);
        }

        Assert.Equal(6, policy.SelectVictim());
        Assert.True(policy.Frequency(0) > policy.Frequency(6));
        Assert.True(policy.Frequency(10) >= 10); // persistent keys are counted too (OBJECT FREQ)
    }

    [Theory]
    [InlineData(EvictionPolicyKind.AllKeysRandom)]
    [InlineData(EvictionPolicyKind.VolatileRandom)]
    public void Random_picks_only_live_candidates_and_all_of_them(EvictionPolicyKind kind)
    {
        var random = new Random(99);
        var policy = EvictionPolicy.Create(kind, 10, randomSeed: 5);
        var live = new HashSet<int>();
        var candidates = new HashSet<int>();
        for (int step = 0; step < 5000; step++)
        {
            int id = random.Next(64);
            if (live.Add(id))
            {
                bool isVolatile = random.Next(2) == 0;
                policy.OnInsert(id, (uint)id, 1, isVolatile ? 1000 : 0);
                if (isVolatile || kind == EvictionPolicyKind.AllKeysRandom)
                {
                    candidates.Add(id);
                }
            }
            else
            {
                policy.OnRemove(id);
                live.Remove(id);
                candidates.Remove(id);
            }

            int victim = policy.SelectVictim();
            Assert.True(candidates.Count == 0 ? victim == -1 : candidates.Contains(victim), $"picked {victim}");
        }

        // Uniform enough: every candidate comes up.
        var hits = new HashSet<int>();
        for (int i = 0; i < 100 * Math.Max(1, candidates.Count); i++)
        {
            hits.Add(policy.SelectVictim());
        }

        Assert.Equal(candidates.Count == 0 ? 1 : candidates.Count, hits.Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Ids_are_reusable_after_removal_and_victims_are_always_live(EvictionPolicyKind kind)
    {
        var random = new Random((int)kind + 1);
        var policy = EvictionPolicy.Create(kind, 1_000, randomSeed: 1);
        var harness = new PolicyHarness(policy, 40);
        for (int step = 0; step < 20_000; step++)
        {
            long key = random.Next(200);
            switch (random.Next(6))
            {
                case 0:
                    harness.Delete(key);
                    break;
                case 1:
                    harness.Set(key, 1, random.Next(2) == 0 ? 0 : 1 + random.Next(100_000));
                    break;
                default:
                    harness.Get(key, 1, random.Next(3) == 0 ? 0 : 1 + random.Next(100_000));
                    break;
            }

            // noeviction and volatile-* may be unable to evict: the harness then stays over its budget
            if (kind is EvictionPolicyKind.AllKeysLru or EvictionPolicyKind.AllKeysLfu or EvictionPolicyKind.AllKeysRandom)
            {
                Assert.True(harness.Count <= 40);
            }
        }

        // Removed ids were handed back and reused: never more ids than the peak number of live entries.
        Assert.True(harness.AllocatedIds <= harness.PeakCount, $"{harness.AllocatedIds} ids for a peak of {harness.PeakCount}");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Clear_forgets_every_entry(EvictionPolicyKind kind)
    {
        var policy = EvictionPolicy.Create(kind, 100);
        for (int id = 0; id < 50; id++)
        {
            policy.OnInsert(id, (uint)id, 1, 1000 + id);
        }

        policy.Clear();
        Assert.Equal(-1, policy.SelectVictim());
        policy.OnInsert(3, 3, 1, 500);
        Assert.Equal(kind == EvictionPolicyKind.NoEviction ? -1 : 3, policy.SelectVictim());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Maximum_weight_can_change_at_runtime(EvictionPolicyKind kind)
    {
        var policy = EvictionPolicy.Create(kind, 100);
        var harness = new PolicyHarness(policy, 100);
        for (long key = 0; key < 100; key++)
        {
            harness.Set(key, 1, 10_000 + key);
        }

        policy.MaximumWeight = 20;
        harness.Budget = 20;
        Assert.Equal(20, policy.MaximumWeight);
        bool evicted = harness.EvictWhileOver(0);
        Assert.Equal(kind != EvictionPolicyKind.NoEviction, evicted);
        Assert.Equal(kind == EvictionPolicyKind.NoEviction ? 100 : 20, harness.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => policy.MaximumWeight = -1);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Frequency_is_zero_except_for_lfu_kinds(EvictionPolicyKind kind)
    {
        var policy = EvictionPolicy.Create(kind, 100);
        policy.OnInsert(0, 42, 1, 1000);
        for (int i = 0; i < 30; i++)
        {
            policy.OnAccess(0);
        }

        int frequency = policy.Frequency(0);
        if (kind is EvictionPolicyKind.AllKeysLfu or EvictionPolicyKind.VolatileLfu)
        {
            Assert.InRange(frequency, 10, 15);
        }
        else
        {
            Assert.Equal(0, frequency);
        }
    }

    [Fact]
    public void Weights_out_of_range_are_rejected()
    {
        var policy = EvictionPolicy.Create(EvictionPolicyKind.AllKeysLfu, 100);
        Assert.Throws<ArgumentOutOfRangeException>(() => policy.OnInsert(0, 0, -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => policy.OnInsert(0, 0, (long)int.MaxValue + 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvictionPolicy.Create(EvictionPolicyKind.AllKeysLru, -5));
    }
}
