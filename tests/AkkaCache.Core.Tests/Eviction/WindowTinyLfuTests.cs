using AkkaCache.Core.Eviction;

namespace AkkaCache.Core.Tests.Eviction;

public sealed class WindowTinyLfuTests
{
    private static WindowTinyLfuPolicy Create(long maximum, WindowTinyLfuSettings? settings = null) =>
        new(maximum, randomSeed: 1, settings ?? WindowTinyLfuSettings.Default);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Frequently_used_entries_survive_a_scan_of_one_hit_wonders(bool evictBeforeInsert, bool unboundedMaximum)
    {
        const int capacity = 200;
        var policy = Create(unboundedMaximum ? long.MaxValue : capacity);
        var harness = new PolicyHarness(policy, capacity, evictBeforeInsert);
        var (hotHits, hotReads) = RunScan(harness);
        Assert.True(hotHits > 0.9 * hotReads, $"hot keys hit {hotHits} of {hotReads} times during the scan");

        int survivors = 0;
        for (long key = 0; key < 100; key++)
        {
            survivors += harness.Contains(key) ? 1 : 0;
        }

        Assert.True(survivors >= 95, $"only {survivors} of 100 hot keys survived the scan");
        Assert.Equal(capacity, harness.Count);
    }

    [Fact]
    public void Lru_loses_the_hot_set_in_the_same_scan()
    {
        var harness = new PolicyHarness(EvictionPolicy.Create(EvictionPolicyKind.AllKeysLru, 200), 200);
        var (hotHits, hotReads) = RunScan(harness);
        Assert.True(hotHits < 0.1 * hotReads, $"LRU hit {hotHits} of {hotReads}");
    }

    [Fact]
    public void A_pure_scan_does_not_flush_the_protected_segment()
    {
        var policy = Create(200);
        var harness = new PolicyHarness(policy, 200);
        for (int round = 0; round < 20; round++)
        {
            for (long key = 0; key < 100; key++)
            {
                harness.Get(key);
            }
        }

        for (long key = 1_000_000; key < 1_050_000; key++)
        {
            harness.Get(key);
        }

        // The climber sees the hit rate collapse when the scan starts and makes one step (6.25% of the
        // cache) towards a larger window, which the scan then flushes; after that a flat 0% hit rate
        // moves nothing, so the rest of the hot set stays.
        int survivors = 0;
        for (long key = 0; key < 100; key++)
        {
            survivors += harness.Contains(key) ? 1 : 0;
        }

        Assert.True(survivors >= 90, $"only {survivors} of 100 hot keys survived");
    }

    /// <summary>100 hot keys used 20 times, then 20 000 one-time keys with a hot key read every 10th request.</summary>
    private static (int Hits, int Reads) RunScan(PolicyHarness harness)
    {
        for (int round = 0; round < 20; round++)
        {
            for (long key = 0; key < 100; key++)
            {
                harness.Get(key);
            }
        }

        int hits = 0;
        int reads = 0;
        for (long key = 1_000_000; key < 1_020_000; key++)
        {
            harness.Get(key); // each seen once
            if (key % 10 == 0)
            {
                reads++;
                hits += harness.Get(key / 10 % 100) ? 1 : 0;
            }
        }

        return (hits, reads);
    }

    [Fact]
    public void Admission_refuses_a_cold_newcomer_against_a_hot_victim()
    {
        var policy = Create(10);
        var harness = new PolicyHarness(policy, 10);
        for (long key = 0; key < 9; key++)
        {
            harness.Get(key);
        }

        for (int round = 0; round < 5; round++)
        {
            for (long key = 0; key < 9; key++)
            {
                harness.Get(key); // hot: promoted into the main space
            }
        }

        harness.Get(100);      // cold, fills the cache (sits in the window)
        Assert.Equal(10, harness.Count);
        harness.Get(101);      // another cold one: 100 leaves the window and loses against a hot victim
        Assert.Equal([100L], harness.Evicted);
        Assert.True(harness.Contains(101));
        for (long key = 0; key < 9; key++)
        {
            Assert.True(harness.Contains(key));
        }

        Assert.Equal(WindowTinyLfuPolicy.InWindow, policy.RegionOf(harness.IdOf(101)));
    }

    [Fact]
    public void Admission_lets_in_a_candidate_more_popular_than_the_victim()
    {
        var policy = Create(10);
        var harness = new PolicyHarness(policy, 10);
        for (long key = 0; key < 10; key++)
        {
            harness.Get(key); // all seen once
        }

        for (int i = 0; i < 6; i++)
        {
            policy.OnMiss(PolicyHarness.Hash(500)); // 500 was asked for often before
        }

        harness.Set(500);   // enters the window
        harness.Get(501);   // pushes 500 out of the window: 500 beats a once-seen victim
        Assert.True(harness.Contains(500));
        Assert.Equal(WindowTinyLfuPolicy.InProbation, policy.RegionOf(harness.IdOf(500)));
        Assert.DoesNotContain(500L, harness.Evicted);
        Assert.Equal(2, harness.Evicted.Count);
    }

    [Fact]
    public void The_newest_entry_itself_can_be_refused()
    {
        // With a window of one entry the newcomer is the candidate as soon as it is inserted.
        var policy = Create(10);
        Assert.Equal(1, policy.WindowMaximum);
        for (int id = 0; id < 10; id++)
        {
            policy.OnInsert(id, (uint)id, 1, 0);
        }

        for (int round = 0; round < 5; round++)
        {
            for (int id = 0; id < 10; id++)
            {
                policy.OnAccess(id);
            }
        }

        // Evict-before-insert owner: the window's entry (id 9, hot) competes; then the cold newcomer is in the window.
        int first = policy.SelectVictim();
        policy.OnRemove(first);
        policy.OnInsert(first, 12345, 1, 0);
        int second = policy.SelectVictim();
        Assert.Equal(first, second); // the cold newcomer loses against any hot victim
    }

    [Fact]
    public void Regions_are_sized_by_weight()
    {
        var policy = Create(10_000);
        var harness = new PolicyHarness(policy, 10_000);
        Assert.Equal(100, policy.WindowMaximum);
        Assert.Equal(7_920, policy.ProtectedMaximum);
        for (long key = 0; key < 200; key++)
        {
            harness.Get(key, weight: 10 + (key % 7) * 30);
        }

        Assert.True(harness.UsedWeight <= 10_000);
        Assert.Equal(harness.UsedWeight, policy.TotalWeight);
        Assert.True(policy.WindowWeight <= policy.WindowMaximum + 200);

        // An entry heavier than the whole budget is refused at once.
        harness.Set(9_999, weight: 20_000);
        Assert.False(harness.Contains(9_999));
        Assert.Equal(harness.UsedWeight, policy.TotalWeight);
    }

    [Fact]
    public void Weight_updates_keep_the_books_balanced()
    {
        var random = new Random(2024);
        var policy = Create(5_000);
        var harness = new PolicyHarness(policy, 5_000);
        for (int step = 0; step < 50_000; step++)
        {
            long key = random.Next(400);
            int op = random.Next(10);
            if (op == 0)
            {
                harness.Delete(key);
            }
            else if (op < 3)
            {
                harness.Set(key, weight: 1 + random.Next(100));
            }
            else
            {
                harness.Get(key, weight: 1 + random.Next(100));
            }

            if (step % 997 == 0)
            {
                policy.MaximumWeight = 3_000 + random.Next(4_000);
                harness.Budget = policy.MaximumWeight;
                harness.EvictWhileOver(0);
            }

            Assert.Equal(harness.UsedWeight, policy.TotalWeight);
            Assert.Equal(harness.Count, policy.Count);
            Assert.Equal(policy.TotalWeight, policy.WindowWeight + policy.ProbationWeight + policy.ProtectedWeight);
            Assert.True(harness.UsedWeight <= harness.Budget);
        }

        foreach (int id in harness.LiveIds)
        {
            Assert.NotEqual(WindowTinyLfuPolicy.InNone, policy.RegionOf(id));
        }
    }

    [Fact]
    public void Maximum_weight_change_resizes_the_regions()
    {
        var policy = Create(1_000);
        Assert.Equal(10, policy.WindowMaximum);
        Assert.Equal(792, policy.ProtectedMaximum);
        policy.MaximumWeight = 100_000;
        Assert.Equal(1_000, policy.WindowMaximum);
        Assert.Equal(79_200, policy.ProtectedMaximum);
    }

    [Fact]
    public void Climber_grows_the_window_on_a_recency_biased_trace()
    {
        // A working set that slides forward: every key is used a few times within a short span and never
        // again, the kind of trace where frequency misleads and a large window (LRU-like) wins.
        const int capacity = 500;
        var policy = Create(capacity);
        var harness = new PolicyHarness(policy, capacity);
        var random = new Random(7);
        long initialWindow = policy.WindowMaximum;
        long maxWindow = 0;
        for (int t = 0; t < 200_000; t++)
        {
            long key = (t / 4) + random.Next(400);
            harness.Get(key);
            maxWindow = Math.Max(maxWindow, policy.WindowMaximum);
        }

        Assert.True(maxWindow >= 10 * initialWindow, $"window went from {initialWindow} to at most {maxWindow}");
    }

    [Fact]
    public void Climber_keeps_the_window_small_on_a_frequency_biased_trace()
    {
        // A loop slightly larger than the cache: LRU gets nothing; only a tiny window keeps most of the loop.
        const int capacity = 500;
        var policy = Create(capacity);
        var harness = new PolicyHarness(policy, capacity);
        int hits = 0;
        for (int t = 0; t < 200_000; t++)
        {
            hits += harness.Get(t % 520) ? 1 : 0;
        }

        Assert.True(hits > 0.8 * 200_000, $"hit rate {hits / 2_000.0:F1}%, window {policy.WindowMaximum}");
        Assert.True(policy.WindowMaximum <= capacity / 10, $"window {policy.WindowMaximum}");
    }

    [Fact]
    public void A_fixed_window_does_not_move()
    {
        var policy = Create(500, WindowTinyLfuSettings.Default with { Adaptive = false });
        var harness = new PolicyHarness(policy, 500);
        var random = new Random(7);
        for (int t = 0; t < 50_000; t++)
        {
            harness.Get((t / 4) + random.Next(400));
        }

        Assert.Equal(5, policy.WindowMaximum);
    }

    [Fact]
    public void Capacity_is_learned_when_the_owner_evicts_below_the_maximum()
    {
        // The engine leaves MaximumWeight unbounded and evicts by its own memory budget.
        var policy = Create(long.MaxValue);
        var harness = new PolicyHarness(policy, 1_000, evictBeforeInsert: true);
        for (long key = 0; key < 5_000; key++)
        {
            harness.Get(key);
        }

        Assert.InRange(policy.WindowMaximum, 1, 20);  // about 1% of the 1000 the owner really holds
        Assert.InRange(policy.ProtectedMaximum, 700, 1_000);

        harness.Budget = 4_000;                         // the owner may hold more now
        for (long key = 5_000; key < 20_000; key++)
        {
            harness.Get(key);
        }

        Assert.Equal(4_000, harness.Count);
        Assert.InRange(policy.ProtectedMaximum, 2_800, 4_000);
    }

    [Fact]
    public void Frequency_estimates_grow_with_use_and_saturate()
    {
        var policy = Create(100);
        policy.OnInsert(0, 77, 1, 0);
        policy.OnInsert(1, 78, 1, 0);
        int previous = policy.Frequency(0);
        for (int i = 0; i < 5; i++)
        {
            policy.OnAccess(0);
            Assert.True(policy.Frequency(0) > previous);
            previous = policy.Frequency(0);
        }

        for (int i = 0; i < 50; i++)
        {
            policy.OnAccess(0);
        }

        Assert.InRange(policy.Frequency(0), 1, 15);
        Assert.True(policy.Frequency(0) > policy.Frequency(1));
        policy.OnRemove(0);
        Assert.Equal(0, policy.Frequency(0));
    }

    [Fact]
    public void A_miss_followed_by_its_fill_counts_once()
    {
        var policy = Create(100);
        policy.OnMiss(5);
        policy.OnInsert(0, 5, 1, 0);
        Assert.Equal(1, policy.Frequency(0));
        policy.OnInsert(1, 6, 1, 0); // a write without a preceding miss counts too
        Assert.Equal(1, policy.Frequency(1));
    }
}
