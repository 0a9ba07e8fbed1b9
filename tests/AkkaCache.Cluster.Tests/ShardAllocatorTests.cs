using System.Diagnostics;
using AkkaCache.Cluster.Sharding;
using Xunit.Abstractions;

namespace AkkaCache.Cluster.Tests;

public sealed class ShardAllocatorTests(ITestOutputHelper output)
{
    private const int Shards = 1024;

    private static ClusterMember M(string id, string? zone = null) => new(id, "127.0.0.1", 7000, zone);

    private static List<ClusterMember> Nodes(int count, int zones = 0) =>
        [.. Enumerable.Range(1, count).Select(i => M($"n{i}", zones == 0 ? null : $"z{i % zones}"))];

    // ---- coverage and balance ----

    [Fact]
    public void No_members_leaves_every_shard_unassigned()
    {
        var empty = ShardMap.Empty(16, 1);
        var map = ShardAllocator.Rebalance(empty, [], new AllocationSettings(1, 4));
        Assert.Same(empty, map);
        Assert.All(map.Shards, a => Assert.Null(a.Primary));

        var world = new World(Shards, new AllocationSettings(1, 8));
        world.Live.AddRange(Nodes(3));
        world.Converge();
        world.Live.Clear();
        world.Step();
        Assert.Empty(world.Map.Members);
        Assert.All(world.Map.Shards, a => Assert.True(a.Primary is null && a.MigratingTo is null && a.Replicas.Length == 0));
    }

    [Theory]
    [InlineData(1, 0)] [InlineData(1, 1)] [InlineData(2, 1)] [InlineData(3, 1)] [InlineData(4, 1)] [InlineData(5, 1)]
    [InlineData(3, 2)] [InlineData(5, 2)] [InlineData(5, 3)]
    public void From_empty_every_shard_is_served_at_once_and_the_map_is_balanced(int members, int replicas)
    {
        var world = new World(Shards, new AllocationSettings(replicas, 8));
        world.Live.AddRange(Nodes(members));
        world.Step();
        Assert.All(world.Map.Shards, a => Assert.NotNull(a.Primary));
        Assert.All(world.Map.Shards, a => Assert.Null(a.MigratingTo)); // fresh shards are assigned, not migrated
        Assert.Equal(1, world.Map.Epoch);
        world.Converge();
        world.CheckSteady();
        Assert.Equal(1, world.Map.Epoch); // already balanced: nothing more to do
    }

    [Theory]
    [InlineData(7, 1)] [InlineData(100, 2)] [InlineData(3, 2)]
    public void Small_shard_counts_are_balanced_too(int shards, int members)
    {
        var world = new World(shards, new AllocationSettings(1, 2));
        world.Live.AddRange(Nodes(members));
        world.Converge();
        world.CheckSteady();
    }

    // ---- movement ----

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)]
    public void A_join_moves_only_the_new_members_share(int before)
    {
        var world = new World(Shards, new AllocationSettings(1, 16));
        world.Live.AddRange(Nodes(before));
        world.Converge();
        var start = world.Map;

        world.Live.Add(M($"n{before + 1}"));
        var first = world.Rebalance();
        // live primaries are never switched directly: the first map only starts migrations
        for (var s = 0; s < Shards; s++) Assert.Equal(start.Shards[s].Primary, first.Shards[s].Primary);
        Assert.Equal(16, first.Shards.Count(a => a.MigratingTo is not null));

        var copies = world.Copies;
        var moves = world.Converge();
        copies = world.Copies - copies;
        var net = Enumerable.Range(0, Shards).Count(s => start.Shards[s].Primary != world.Map.Shards[s].Primary);
        var bound = Ceiling(Shards, before + 1) + Shards * 2 / 100;
        output.WriteLine($"join {before}->{before + 1}: {moves} primary moves ({net} net) out of {Shards}, bound {bound}, "
            + $"ideal {Ceiling(Shards, before + 1)}; {copies} shard copies made (primaries and replicas)");
        Assert.InRange(moves, 0, bound);
        world.CheckSteady();
    }

    [Theory]
    [InlineData(2, false)] [InlineData(3, false)] [InlineData(4, false)] [InlineData(5, false)]
    [InlineData(2, true)] [InlineData(3, true)] [InlineData(4, true)] [InlineData(5, true)]
    public void A_leave_moves_only_the_leavers_share(int before, bool graceful)
    {
        var world = new World(Shards, new AllocationSettings(1, 16));
        world.Live.AddRange(Nodes(before));
        world.Converge();
        var start = world.Map;
        var gone = world.Live[before / 2];

        if (graceful) world.Leaving.Add(gone.Id);
        else world.Live.Remove(gone);
        var copies = world.Copies;
        var moves = world.Converge();
        copies = world.Copies - copies;
        if (graceful) world.Live.Remove(gone); // it held nothing any more, so it was dropped from the map

        var net = Enumerable.Range(0, Shards).Count(s => start.Shards[s].Primary != world.Map.Shards[s].Primary);
        var bound = Ceiling(Shards, before) + Shards * 2 / 100;
        output.WriteLine($"{(graceful ? "graceful leave" : "death")} {before}->{before - 1}: {moves} primary moves ({net} net) "
            + $"out of {Shards}, bound {bound}; {copies} shard copies made");
        Assert.InRange(moves, 0, bound);
        Assert.Null(world.Map.Member(gone.Id));
        world.CheckSteady();
    }

    [Fact]
    public void Dead_primaries_fail_over_in_one_map_and_the_rest_stays_put()
    {
        var world = new World(Shards, new AllocationSettings(2, 8));
        world.Live.AddRange(Nodes(4));
        world.Converge();
        var start = world.Map;
        world.Live.RemoveAt(1);
        var next = world.Step();
        for (var s = 0; s < Shards; s++)
        {
            Assert.NotNull(next.Shards[s].Primary);
            if (start.Shards[s].Primary == "n2") Assert.Contains(next.Shards[s].Primary!, start.Shards[s].Replicas);
            else Assert.Equal(start.Shards[s].Primary, next.Shards[s].Primary);
        }
    }

    [Fact]
    public void Max_in_flight_is_respected_and_leavers_drain_first()
    {
        var world = new World(Shards, new AllocationSettings(1, 3));
        world.Live.AddRange(Nodes(3));
        world.Converge();
        world.Live.Add(M("n4"));
        world.Leaving.Add("n1");
        var map = world.Step();
        var migrating = map.Shards.Where(a => a.MigratingTo is not null).ToList();
        Assert.Equal(3, migrating.Count);
        Assert.All(migrating, a => Assert.Equal("n1", a.Primary));
        Assert.Same(map, world.Rebalance()); // nothing more may start until one completes
        world.Converge(); // checks the limit at every step
        world.CheckSteady();
    }

    [Fact]
    public void Given_shard_sizes_a_join_moves_the_smallest_shards_first()
    {
        var settings = new AllocationSettings(0, 64);
        var two = ShardAllocator.Rebalance(ShardMap.Empty(64, 0), Nodes(2), settings);
        // the lowest-numbered shards (the ones an unsized plan moves first) hold nearly all the data
        long Bytes(int shard) => shard < 8 || shard is >= 32 and < 40 ? 1_000_000 : 100;
        var three = ShardAllocator.Rebalance(two, [.. Nodes(2), M("n3")], settings, shardBytes: Bytes);
        var moving = Migrations(three).Keys.ToList();
        Assert.Equal(21, moving.Count); // floor(64 / 3) to the new member
        Assert.All(moving, shard => Assert.Equal(100, Bytes(shard)));
        var unsized = Migrations(ShardAllocator.Rebalance(two, [.. Nodes(2), M("n3")], settings)).Keys;
        Assert.Contains(unsized, shard => Bytes(shard) > 100); // without sizes the big ones would have gone
    }

    [Fact]
    public void Lowering_the_limit_keeps_the_migrations_in_flight_and_starts_none_until_below_it()
    {
        var world = new World(Shards, new AllocationSettings(1, 10));
        world.Live.AddRange(Nodes(2));
        world.Converge();
        world.Live.Add(M("n3"));
        var started = world.Step();
        var inFlight = Migrations(started);
        Assert.Equal(10, inFlight.Count);

        // a lower limit cancels nothing (a hand-off may already have passed write authority to the target)
        world.Settings = new AllocationSettings(1, 4);
        Assert.Same(started, world.Step());

        // completing down to the new limit starts nothing
        foreach (var s in inFlight.Keys.Take(6)) world.Complete(s);
        var map = world.Step();
        Assert.Equal(inFlight.Skip(6).ToList(), Migrations(map).ToList());

        // one below it: exactly one new migration starts, and the others stay as they were
        world.Complete(inFlight.Keys.ElementAt(6));
        map = world.Step();
        var now = Migrations(map);
        Assert.Equal(4, now.Count);
        Assert.Subset(now.ToHashSet(), inFlight.Skip(7).ToHashSet());

        world.Converge(); // checks the limit at every step
        world.CheckSteady();
    }

    [Fact]
    public void Migrations_to_a_member_that_became_overloaded_are_kept_and_the_overshoot_moves_later()
    {
        // n1 holds all 8 shards and migrates 4 to n2; then a third member joins and n2's quota drops to 3.
        var world = new World(8, new AllocationSettings(0, 8));
        world.Live.AddRange(Nodes(1));
        world.Converge();
        world.Live.Add(M("n2"));
        var toN2 = Migrations(world.Step());
        Assert.Equal(4, toN2.Count);
        Assert.All(toN2.Values, t => Assert.Equal("n2", t));

        world.Live.Add(M("n3"));
        var map = world.Step();
        // kept: n2 may already answer for them (-ASK); taking them back could drop writes it acknowledged
        foreach (var s in toN2.Keys)
        {
            Assert.Equal("n1", map.Shards[s].Primary);
            Assert.Equal("n2", map.Shards[s].MigratingTo);
        }
        // only n1's own excess moves now (n1 keeps 3, n2 is getting 4 of quota 3, n3 gets 1 of quota 2)
        Assert.Equal(1, map.Shards.Count(a => a.MigratingTo == "n3" && a.Primary == "n1"));
        Assert.Equal(5, map.Shards.Count(a => a.MigratingTo is not null));

        // once n2 owns its 4 shards, its excess moves like any other
        foreach (var s in Migrations(map).Keys) world.Complete(s);
        map = world.Step();
        Assert.Equal(4, map.Shards.Count(a => a.Primary == "n2"));
        var excess = Migrations(map);
        Assert.Single(excess);
        var (shard, target) = excess.Single();
        Assert.Equal("n2", map.Shards[shard].Primary);
        Assert.Equal("n3", target);

        world.Converge();
        world.CheckSteady(); // 3, 3, 2
    }

    // ---- failover ----

    [Fact]
    public void Failover_promotes_the_most_up_to_date_live_replica()
    {
        var map = Fixed(new ShardAssignment { Primary = "a", Replicas = ["b", "c", "d"] });
        var members = new[] { M("b"), M("c"), M("d"), M("e") };
        var settings = new AllocationSettings(3, 4);

        long Offsets(string member, int shard) => member switch { "b" => 10, "c" => 30, "d" => 20, _ => 99 };
        var next = ShardAllocator.Rebalance(map, members, settings, Offsets);
        Assert.Equal("c", next.Shards[0].Primary);
        Assert.Equal(map.Epoch + 1, next.Epoch);
        Assert.DoesNotContain("c", next.Shards[0].Replicas);
        Assert.DoesNotContain("a", next.Shards[0].Replicas);

        // a dead replica is not a candidate, however fresh it claims to be
        next = ShardAllocator.Rebalance(map, [M("b"), M("d"), M("e")], settings, Offsets);
        Assert.Equal("d", next.Shards[0].Primary);

        // ties are broken deterministically
        var tie1 = ShardAllocator.Rebalance(map, members, settings);
        var tie2 = ShardAllocator.Rebalance(map, [.. members.Reverse()], settings);
        Assert.Equal(tie1.ToJson(), tie2.ToJson());
        Assert.Contains(tie1.Shards[0].Primary, new[] { "b", "c", "d" });
    }

    [Fact]
    public void Failover_prefers_a_replica_that_is_not_leaving_when_equally_fresh()
    {
        var map = Fixed(new ShardAssignment { Primary = "a", Replicas = ["b", "c"] });
        var next = ShardAllocator.Rebalance(map, [M("b"), M("c")], new AllocationSettings(2, 4), leaving: new HashSet<string> { "b" });
        Assert.Equal("c", next.Shards[0].Primary);
    }

    [Fact]
    public void Without_a_live_replica_the_migration_target_is_promoted_else_a_fresh_primary_is_assigned()
    {
        var map = Fixed(new ShardAssignment { Primary = "a", Replicas = ["b"], MigratingTo = "c" });
        var next = ShardAllocator.Rebalance(map, [M("c"), M("d")], new AllocationSettings(1, 4));
        Assert.Equal("c", next.Shards[0].Primary);
        Assert.Null(next.Shards[0].MigratingTo);

        next = ShardAllocator.Rebalance(map, [M("d")], new AllocationSettings(1, 4));
        Assert.Equal("d", next.Shards[0].Primary);
        Assert.Null(next.Shards[0].MigratingTo);
        Assert.Empty(next.Shards[0].Replicas);
    }

    [Fact]
    public void A_dead_or_leaving_migration_target_cancels_the_migration()
    {
        var map = Fixed(new ShardAssignment { Primary = "a", Replicas = ["b"], MigratingTo = "c" });
        var settings = new AllocationSettings(1, 4);
        var next = ShardAllocator.Rebalance(map, [M("a"), M("b")], settings);
        Assert.Equal(new ShardAssignment { Primary = "a", Replicas = ["b"] }, next.Shards[0], ShardEquality.Instance);

        next = ShardAllocator.Rebalance(map, [M("a"), M("b"), M("c")], settings, leaving: new HashSet<string> { "c" });
        Assert.Null(next.Shards[0].MigratingTo);
        Assert.Equal("a", next.Shards[0].Primary);
    }

    // ---- replicas and zones ----

    [Theory]
    [InlineData(4, 2, 1)] [InlineData(6, 2, 1)] [InlineData(6, 3, 2)] [InlineData(6, 2, 2)]
    public void Replicas_spread_over_zones(int members, int zones, int replicas)
    {
        var world = new World(Shards, new AllocationSettings(replicas, 16));
        world.Live.AddRange(Nodes(members, zones));
        world.Converge();
        world.CheckSteady();
        foreach (var a in world.Map.Shards)
        {
            var copies = a.Replicas.Prepend(a.Primary!).Select(id => world.Map.Member(id)!.Zone).ToList();
            // as many distinct zones as there can be
            Assert.Equal(Math.Min(zones, replicas + 1), copies.Distinct().Count());
        }
    }

    [Fact]
    public void Zone_spreading_survives_a_join_in_a_balanced_layout()
    {
        var world = new World(Shards, new AllocationSettings(1, 16));
        world.Live.AddRange(Nodes(4, zones: 2));
        world.Converge();
        world.Live.Add(M("n5", "z1"));
        world.Live.Add(M("n6", "z0"));
        world.Converge();
        world.CheckSteady();
        var spread = world.Map.Shards.Count(a => world.Map.Member(a.Primary)!.Zone != world.Map.Member(a.Replicas[0])!.Zone);
        output.WriteLine($"zone-spread shards after 4->6 join: {spread}/{Shards}");
        Assert.Equal(Shards, spread);
    }

    [Fact]
    public void With_unequal_zones_replica_counts_stay_balanced()
    {
        var world = new World(Shards, new AllocationSettings(1, 16));
        world.Live.AddRange([M("a", "z1"), M("b", "z1"), M("c", "z2")]);
        world.Converge();
        world.CheckSteady(); // includes the replica balance
        // every shard whose primary is in z2 has its replica in z1
        Assert.All(world.Map.Shards.Where(a => a.Primary == "c"), a => Assert.NotEqual("c", a.Replicas[0]));
        // and c backs up only z1 primaries: the most spreading balance allows
        Assert.All(world.Map.Shards.Where(a => a.Replicas.Contains("c")), a => Assert.NotEqual("c", a.Primary));
    }

    [Fact]
    public void A_dead_members_shards_spread_evenly_over_the_survivors()
    {
        var world = new World(Shards, new AllocationSettings(1, 16));
        world.Live.AddRange(Nodes(4));
        world.Converge();
        world.Live.RemoveAt(3);
        var map = world.Step();
        var counts = world.Live.Select(m => map.Shards.Count(a => a.Primary == m.Id)).ToList();
        output.WriteLine("primaries right after n4 died: " + string.Join(", ", counts));
        Assert.True(counts.Max() - counts.Min() <= 2);
    }

    // ---- migrations and leaving ----

    [Fact]
    public void Complete_migration_switches_the_primary_and_the_old_primary_fills_a_free_replica_slot()
    {
        // replica slots full: the old primary drops the shard
        var map = Fixed(new ShardAssignment { Primary = "a", Replicas = ["b", "c"], MigratingTo = "d" }, replicas: 2, "a", "b", "c", "d");
        var done = ShardAllocator.CompleteMigration(map, 0, "d");
        Assert.Equal(map.Epoch + 1, done.Epoch);
        Assert.Equal("d", done.Shards[0].Primary);
        Assert.Null(done.Shards[0].MigratingTo);
        Assert.Equal(["b", "c"], done.Shards[0].Replicas);

        // a free slot (the target was a replica, so one slot stayed free during the move): the old primary takes it
        map = Fixed(new ShardAssignment { Primary = "a", Replicas = ["c"], MigratingTo = "b" }, replicas: 2, "a", "b", "c", "d");
        done = ShardAllocator.CompleteMigration(map, 0, "b");
        Assert.Equal(["c", "a"], done.Shards[0].Replicas);

        done = ShardAllocator.CompleteMigration(map, 0, "b", new HashSet<string> { "a" });
        Assert.Equal(["c"], done.Shards[0].Replicas); // a leaving member takes no replica

        // stale completion: nothing happens
        Assert.Same(map, ShardAllocator.CompleteMigration(map, 0, "c"));
        Assert.Same(map, ShardAllocator.CompleteMigration(map, 1, "b"));
    }

    [Fact]
    public void Migrations_prefer_a_target_that_already_holds_a_replica()
    {
        var world = new World(Shards, new AllocationSettings(1, 8));
        world.Live.AddRange(Nodes(3));
        world.Converge();
        world.Leaving.Add("n2");
        var map = world.Step();
        foreach (var (before, after) in world.History[^2].Shards.Zip(map.Shards))
            if (after.MigratingTo is not null)
                Assert.Contains(after.MigratingTo, before.Replicas); // the target already has the data
    }

    [Fact]
    public void A_leaving_member_keeps_serving_until_its_shards_have_moved_then_holds_nothing()
    {
        var world = new World(Shards, new AllocationSettings(2, 8));
        world.Live.AddRange(Nodes(4));
        world.Converge();
        world.Leaving.Add("n3");
        var map = world.Step();
        Assert.NotNull(map.Member("n3"));
        Assert.Equal(world.History[^2].Shards.Count(a => a.Primary == "n3"), map.Shards.Count(a => a.Primary == "n3")); // still serving
        Assert.DoesNotContain(map.Shards, a => a.Replicas.Contains("n3") || a.MigratingTo == "n3");
        world.Converge();
        Assert.Null(world.Map.Member("n3"));
        Assert.DoesNotContain(world.Map.Shards, a => a.IsHeldBy("n3"));
        world.Live.RemoveAll(m => m.Id == "n3");
        world.Leaving.Clear();
        Assert.Same(world.Map, world.Rebalance());
        world.CheckSteady();
    }

    [Fact]
    public void If_everyone_is_leaving_they_keep_serving()
    {
        var world = new World(64, new AllocationSettings(1, 8));
        world.Live.AddRange(Nodes(2));
        world.Converge();
        world.Leaving.UnionWith(["n1", "n2"]);
        Assert.Same(world.Map, world.Rebalance());
    }

    // ---- epoch and determinism ----

    [Fact]
    public void Epoch_grows_by_one_exactly_when_the_content_changes()
    {
        var settings = new AllocationSettings(1, 4);
        var empty = ShardMap.Empty(Shards, 1);
        var map = ShardAllocator.Rebalance(empty, Nodes(3), settings);
        Assert.Equal(1, map.Epoch);
        Assert.Same(map, ShardAllocator.Rebalance(map, Nodes(3), settings));
        Assert.Same(map, ShardAllocator.Rebalance(map, [.. Nodes(3).AsEnumerable().Reverse()], settings));

        // a member's endpoint changing is a content change (CLUSTER NODES shows it)
        var moved = ShardAllocator.Rebalance(map, [M("n1"), M("n2"), new ClusterMember("n3", "10.0.0.3", 7000)], settings);
        Assert.Equal(2, moved.Epoch);
        Assert.Equal("10.0.0.3", moved.Member("n3")!.Host);

        // a new replica count is a content change
        var more = ShardAllocator.Rebalance(map, Nodes(3), settings with { ReplicaCount = 2 });
        Assert.Equal(2, more.Epoch);
        Assert.All(more.Shards, a => Assert.Equal(2, a.Replicas.Length));
    }

    [Fact]
    public void Same_inputs_give_the_same_map_whatever_the_member_order()
    {
        var settings = new AllocationSettings(2, 8);
        var nodes = Nodes(5, zones: 2);
        var a = ShardAllocator.Rebalance(ShardMap.Empty(Shards, 2), nodes, settings);
        var rng = new Random(7);
        for (var i = 0; i < 5; i++)
        {
            var shuffled = nodes.OrderBy(_ => rng.Next()).ToList();
            Assert.Equal(a.ToJson(), ShardAllocator.Rebalance(ShardMap.Empty(Shards, 2), shuffled, settings).ToJson());
            var next1 = ShardAllocator.Rebalance(a, shuffled.Where(m => m.Id != "n2").Append(M("n9", "z1")).ToList(), settings);
            var next2 = ShardAllocator.Rebalance(a, nodes.Where(m => m.Id != "n2").Append(M("n9", "z1")).ToList(), settings);
            Assert.Equal(next1.ToJson(), next2.ToJson());
        }
    }

    [Fact]
    public void Bad_input_is_rejected()
    {
        var empty = ShardMap.Empty(4, 1);
        Assert.Throws<ArgumentException>(() => ShardAllocator.Rebalance(empty, [M("a"), M("a")], new AllocationSettings(1, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardAllocator.Rebalance(empty, [M("a")], new AllocationSettings(-1, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardAllocator.Rebalance(empty, [M("a")], new AllocationSettings(1, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardAllocator.CompleteMigration(empty, 4, "a"));
    }

    // ---- random walk ----

    [Theory]
    [InlineData(1, 64, 1, 2)] [InlineData(2, 128, 1, 4)] [InlineData(3, 128, 2, 3)] [InlineData(4, 256, 2, 8)]
    [InlineData(5, 96, 0, 1)] [InlineData(6, 1024, 1, 16)] [InlineData(7, 200, 3, 5)] [InlineData(8, 128, 1, 4)]
    public void Random_walk_of_joins_leaves_deaths_and_completions_keeps_every_invariant(int seed, int shards, int replicas, int maxInFlight)
    {
        var rng = new Random(seed);
        var world = new World(shards, new AllocationSettings(replicas, maxInFlight))
        {
            Offset = (member, shard) => (long)(uint)HashCode.Combine(member.Length, member[^1], shard, seed) % 5,
        };
        var zoned = seed % 2 == 0;
        var next = 1;
        ClusterMember NewMember() => M($"m{next++:D3}", zoned ? $"z{rng.Next(3)}" : null);
        world.Live.AddRange(Enumerable.Range(0, 1 + rng.Next(4)).Select(_ => NewMember()));

        for (var step = 0; step < 300; step++)
        {
            var staying = world.Live.Where(m => !world.Leaving.Contains(m.Id)).ToList();
            switch (rng.Next(10))
            {
                case 0 or 1 when world.Live.Count < 7:
                    world.Live.Add(NewMember());
                    break;
                case 2 when staying.Count > 1:
                    world.Leaving.Add(staying[rng.Next(staying.Count)].Id);
                    break;
                case 3 when world.Live.Count > 0 && (world.Live.Count > 1 || rng.Next(4) == 0):
                    var dead = world.Live[rng.Next(world.Live.Count)];
                    world.Live.Remove(dead);
                    world.Leaving.Remove(dead.Id);
                    break;
                case 4:
                    world.Settings = world.Settings with { MaxShardsInFlight = 1 + rng.Next(maxInFlight) };
                    break;
                default:
                    var inFlight = Enumerable.Range(0, shards).Where(s => world.Map.Shards[s].MigratingTo is not null).ToList();
                    foreach (var s in inFlight.Where(_ => rng.Next(2) == 0)) world.Complete(s);
                    break;
            }
            world.Step();
            // a leaving member that holds nothing any more is shut down by the operator
            foreach (var id in world.Leaving.Where(id => world.Map.Member(id) is null).ToList())
            {
                world.Leaving.Remove(id);
                world.Live.RemoveAll(m => m.Id == id);
            }
            if (step % 60 == 59)
            {
                world.Converge();
                world.CheckSteady();
            }
        }
        world.Converge();
        world.CheckSteady();
    }

    // ---- performance ----

    [Fact]
    public void Rebalance_of_1024_shards_on_5_members_takes_well_under_10_ms()
    {
        var settings = new AllocationSettings(2, 16);
        var nodes = Nodes(5, zones: 2);
        var world = new World(Shards, settings);
        world.Live.AddRange(nodes.Take(4));
        world.Converge();
        var four = world.Map;
        var samples = new List<double>();
        for (var i = 0; i < 60; i++)
        {
            var sw = Stopwatch.StartNew();
            ShardAllocator.Rebalance(ShardMap.Empty(Shards, 2), nodes, settings); // from empty
            ShardAllocator.Rebalance(four, nodes, settings); // a join
            ShardAllocator.Rebalance(four, nodes.Take(3).ToList(), settings); // a death
            samples.Add(sw.Elapsed.TotalMilliseconds / 3);
        }
        samples.Sort();
        var median = samples[samples.Count / 2];
        output.WriteLine($"Rebalance 1024 shards x 5 members: median {median:F3} ms, best {samples[0]:F3} ms");
        Assert.True(median < 10, $"median {median} ms");
    }

    // ---- helpers ----

    private static int Ceiling(int a, int b) => (a + b - 1) / b;

    /// <summary>The shards migrating in <paramref name="map"/>, by shard, with their targets.</summary>
    private static SortedDictionary<int, string> Migrations(ShardMap map) =>
        new(Enumerable.Range(0, map.ShardCount).Where(s => map.Shards[s].MigratingTo is not null)
            .ToDictionary(s => s, s => map.Shards[s].MigratingTo!));

    private static ShardMap Fixed(ShardAssignment shard0, int replicas = 3, params string[] members) => new()
    {
        Epoch = 5,
        ReplicaCount = replicas,
        Members = [.. (members.Length == 0 ? ["a", "b", "c", "d", "e"] : members).Select(id => M(id))],
        Shards = [shard0, new ShardAssignment { Primary = members.Length == 0 ? "e" : members[^1] }],
    };

    private sealed class ShardEquality : IEqualityComparer<ShardAssignment>
    {
        public static readonly ShardEquality Instance = new();
        public bool Equals(ShardAssignment? x, ShardAssignment? y) =>
            x!.Primary == y!.Primary && x.MigratingTo == y.MigratingTo && x.Replicas.SequenceEqual(y.Replicas);
        public int GetHashCode(ShardAssignment obj) => 0;
    }

    /// <summary>A simulated cluster: the live members, who is leaving, and the maps the leader wrote, checked at every step.</summary>
    [Fact]
    public void A_pinned_shard_moves_to_its_member_and_stays_while_other_shards_restore_the_balance()
    {
        var settings = new AllocationSettings(1, 4);
        var members = Nodes(3);
        ShardMap Converge(ShardMap map, IReadOnlyDictionary<int, string>? pins)
        {
            for (int round = 0; round < 100; round++)
            {
                var next = ShardAllocator.Rebalance(map, members, settings, pinned: pins);
                for (int s = 0; s < next.ShardCount; s++)
                    if (next.Shards[s].MigratingTo is { } target) next = ShardAllocator.CompleteMigration(next, s, target);
                if (next.Epoch == map.Epoch) return map;
                map = next;
            }
            throw new InvalidOperationException("the allocator did not settle");
        }
        var balanced = Converge(ShardMap.Empty(64, 1), null);
        int shard = Enumerable.Range(0, 64).First(s => balanced.Shards[s].Primary == "n1");
        var pins = new Dictionary<int, string> { [shard] = "n2" };

        var first = ShardAllocator.Rebalance(balanced, members, settings, pinned: pins);
        Assert.Equal("n2", first.Shards[shard].MigratingTo);
        var settled = Converge(balanced, pins);
        Assert.Equal("n2", settled.Shards[shard].Primary);
        var counts = members.Select(m => settled.Shards.Count(a => a.Primary == m.Id)).ToList();
        Assert.True(counts.Max() - counts.Min() <= 1, string.Join(",", counts));

        // a pin to a member that is leaving (or gone) does not hold the shard back
        var leaving = ShardAllocator.Rebalance(settled, members, settings, leaving: new HashSet<string> { "n2" }, pinned: pins);
        Assert.NotNull(leaving.Shards[shard].MigratingTo);
    }

    private sealed class World(int shards, AllocationSettings settings)
    {
        public List<ClusterMember> Live { get; } = [];
        public HashSet<string> Leaving { get; } = new(StringComparer.Ordinal);
        public AllocationSettings Settings { get; set; } = settings;
        public Func<string, int, long>? Offset { get; set; }
        public List<ShardMap> History { get; } = [ShardMap.Empty(shards, settings.ReplicaCount)];
        public ShardMap Map => History[^1];

        public ShardMap Rebalance() => ShardAllocator.Rebalance(Map, Live, Settings, Offset, Leaving);

        /// <summary>Shard copies made so far: a member starting to hold a shard (as primary, replica or target) it did not hold.</summary>
        public int Copies { get; private set; }

        /// <summary>One leader decision: Rebalance, checked.</summary>
        public ShardMap Step() => Step(out _);

        /// <summary>One leader decision; <paramref name="moves"/>: primary moves it made (migrations started, dead primaries replaced).</summary>
        public ShardMap Step(out int moves)
        {
            var before = Map;
            var after = Rebalance();
            CheckRebalance(before, after);
            moves = 0;
            for (var s = 0; s < shards; s++)
            {
                var (b, a) = (before.Shards[s], after.Shards[s]);
                if (a.MigratingTo is not null && a.MigratingTo != b.MigratingTo) moves++;
                if (b.Primary is not null && a.Primary != b.Primary) moves++;
            }
            CountCopies(before, after);
            History.Add(after);
            return after;
        }

        public void Complete(int shard)
        {
            var before = Map;
            var target = before.Shards[shard].MigratingTo!;
            var after = ShardAllocator.CompleteMigration(before, shard, target, Leaving);
            Assert.Equal(before.Epoch + 1, after.Epoch);
            Assert.Equal(target, after.Shards[shard].Primary);
            Assert.Null(after.Shards[shard].MigratingTo);
            for (var s = 0; s < shards; s++)
                if (s != shard) Assert.Same(before.Shards[s], after.Shards[s]);
            CheckAssignments(after, strictMembers: false);
            CountCopies(before, after);
            History.Add(after);
        }

        private void CountCopies(ShardMap before, ShardMap after)
        {
            for (var s = 0; s < shards; s++)
            {
                var (b, a) = (before.Shards[s], after.Shards[s]);
                if (ReferenceEquals(a, b)) continue;
                foreach (var holder in a.Replicas.Append(a.Primary).Append(a.MigratingTo))
                    if (holder is not null && b.Primary is not null && !b.IsHeldBy(holder)) Copies++;
            }
        }

        /// <summary>Rebalances and completes every migration until the map no longer changes; returns the primary moves.</summary>
        public int Converge()
        {
            var total = 0;
            for (var round = 0; round < 100_000; round++)
            {
                var before = Map;
                Step(out var moves);
                total += moves;
                var inFlight = Enumerable.Range(0, shards).Where(s => Map.Shards[s].MigratingTo is not null).ToList();
                if (inFlight.Count == 0 && ReferenceEquals(before, Map)) return total;
                foreach (var s in inFlight) Complete(s);
            }
            throw new InvalidOperationException("no convergence");
        }

        private IEnumerable<string> Staying()
        {
            var staying = Live.Where(m => !Leaving.Contains(m.Id)).Select(m => m.Id).ToList();
            return staying.Count > 0 ? staying : Live.Select(m => m.Id);
        }

        private void CheckRebalance(ShardMap before, ShardMap after)
        {
            // epoch: +1 exactly when the content changes; unchanged means the very same map
            if (ReferenceEquals(before, after)) Assert.Equal(before.Epoch, after.Epoch);
            else
            {
                Assert.Equal(before.Epoch + 1, after.Epoch);
                Assert.NotEqual(Content(before), Content(after));
            }
            CheckAssignments(after, strictMembers: true);

            // idempotent: asking again without anything happening changes nothing
            var again = ShardAllocator.Rebalance(after, Live, Settings, Offset, Leaving);
            if (!ReferenceEquals(after, again))
                Assert.Fail("not idempotent:\n" + Diff(before, after, again) + "\nleaving " + string.Join(",", Leaving));

            var staying = Staying().ToHashSet();
            if (staying.Count == 0) return;
            var floor = shards / staying.Count;
            var ceiling = Ceiling(shards, staying.Count);
            var live = Live.Select(m => m.Id).ToHashSet();
            var load = Loads(after);
            int carried = 0, started = 0;
            for (var s = 0; s < shards; s++)
            {
                var (b, a) = (before.Shards[s], after.Shards[s]);
                // a live primary is never replaced directly
                if (b.Primary is not null && live.Contains(b.Primary) && a.Primary != b.Primary)
                    Assert.Fail($"shard {s}: live primary {b.Primary} replaced by {a.Primary}");
                // a dead one is replaced by its most up-to-date live replica
                var candidates = b.Replicas.Where(live.Contains).ToList();
                if (b.Primary is not null && !live.Contains(b.Primary) && candidates.Count > 0)
                {
                    Assert.Contains(a.Primary!, candidates);
                    if (Offset is not null) Assert.Equal(candidates.Max(c => Offset(c, s)), Offset(a.Primary!, s));
                }
                // a migration in flight is never cancelled nor retargeted while its target is live and not leaving
                // and its primary is live: its hand-off may have passed write authority to the target (-ASK)
                if (b.MigratingTo is not null && live.Contains(b.MigratingTo) && staying.Contains(b.MigratingTo)
                    && b.Primary is not null && live.Contains(b.Primary)
                    && (a.Primary != b.Primary || a.MigratingTo != b.MigratingTo))
                    Assert.Fail($"shard {s}: migration {b.Primary}->{b.MigratingTo} became {a.Primary}->{a.MigratingTo}");
                if (a.MigratingTo is null) continue;
                if (a.MigratingTo == b.MigratingTo && a.Primary == b.Primary)
                {
                    carried++; // its target may overshoot its quota now (e.g. after a join): it moves back later
                    continue;
                }
                started++;
                // a new migration: only excess moves, to a member not overshooting its quota; so a target above its
                // quota is one whose incoming migrations all predate this step
                Assert.True(!staying.Contains(a.Primary!) || load.GetValueOrDefault(a.Primary!) >= floor,
                    $"shard {s}: {a.Primary} gave away more than its excess");
                Assert.InRange(load[a.MigratingTo], 1, ceiling);
            }
            // new migrations start only while fewer than the limit are in flight: only migrations already in flight
            // (e.g. before the limit was lowered) may exceed it
            if (started > 0) Assert.InRange(carried + started, 1, Settings.MaxShardsInFlight);
        }

        private static string Diff(ShardMap before, ShardMap after, ShardMap again)
        {
            static string Show(ShardAssignment a) =>
                $"{a.Primary}{(a.MigratingTo is null ? "" : "->" + a.MigratingTo)} [{string.Join(",", a.Replicas)}]";
            var lines = new List<string>
            {
                "members " + string.Join(",", after.Members.Select(m => m.Id + "@" + m.Zone))
                    + " | " + string.Join(",", again.Members.Select(m => m.Id)),
            };
            for (var s = 0; s < after.ShardCount && lines.Count < 12; s++)
                if (Show(after.Shards[s]) != Show(again.Shards[s]))
                    lines.Add($"shard {s}: {Show(before.Shards[s])} => {Show(after.Shards[s])} => {Show(again.Shards[s])}");
            var loads = Loads(after);
            lines.Add("owner loads " + string.Join(",", loads.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => $"{kv.Key}={kv.Value}")));
            lines.Add("replica loads " + string.Join(",", after.Members
                .Select(m => $"{m.Id}={after.Shards.Count(a => a.Replicas.Contains(m.Id))}")));
            return string.Join("\n", lines);
        }

        private static Dictionary<string, int> Loads(ShardMap map)
        {
            var load = new Dictionary<string, int>();
            foreach (var a in map.Shards)
                if ((a.MigratingTo ?? a.Primary) is { } owner) load[owner] = load.GetValueOrDefault(owner) + 1;
            return load;
        }

        private static string Content(ShardMap map) => System.Text.Encoding.UTF8.GetString((map with { Epoch = 0 }).ToJson());

        private void CheckAssignments(ShardMap map, bool strictMembers)
        {
            Assert.Equal(shards, map.ShardCount);
            var ids = map.Members.Select(m => m.Id).ToList();
            Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
            Assert.Equal(ids.Distinct().Count(), ids.Count);
            var live = Live.Select(m => m.Id).ToHashSet();
            var staying = Staying().ToHashSet();
            if (strictMembers)
            {
                // members: the live ones, but a leaver only while it still holds something
                var expected = Live.Where(m => staying.Contains(m.Id) || map.Shards.Any(a => a.IsHeldBy(m.Id)))
                    .Select(m => m.Id).Order(StringComparer.Ordinal);
                Assert.Equal(expected, ids);
                Assert.All(map.Members, m => Assert.Contains(m, Live));
            }
            foreach (var a in map.Shards)
            {
                // replicas wanted: on members not leaving, other than the shard's future primary
                var owner = a.MigratingTo ?? a.Primary;
                var wanted = Math.Min(Settings.ReplicaCount, staying.Count - (owner is not null && staying.Contains(owner) ? 1 : 0));
                if (live.Count == 0 && strictMembers)
                {
                    Assert.True(a.Primary is null && a.MigratingTo is null && a.Replicas.Length == 0);
                    continue;
                }
                Assert.NotNull(a.Primary); // every slot served
                Assert.Contains(a.Primary, ids);
                Assert.NotEqual(a.Primary, a.MigratingTo);
                if (a.MigratingTo is not null)
                {
                    Assert.Contains(a.MigratingTo, ids);
                    Assert.Contains(a.MigratingTo, staying);
                }
                Assert.Equal(a.Replicas.Distinct().Count(), a.Replicas.Length);
                Assert.InRange(a.Replicas.Length, 0, Math.Max(wanted, map.ReplicaCount));
                foreach (var r in a.Replicas)
                {
                    Assert.Contains(r, ids);
                    Assert.NotEqual(a.Primary, r);
                    Assert.NotEqual(a.MigratingTo, r);
                    if (strictMembers) Assert.Contains(r, staying);
                }
                if (strictMembers)
                    Assert.InRange(a.Replicas.Length, a.MigratingTo is null ? wanted : Math.Max(wanted - 1, 0), wanted);
            }
        }

        /// <summary>After convergence: balanced primaries and replicas, full replica sets, leavers empty.</summary>
        public void CheckSteady()
        {
            var map = Map;
            Assert.DoesNotContain(map.Shards, a => a.MigratingTo is not null);
            if (Live.Count == 0) return;
            var staying = Staying().ToList();
            var wanted = Math.Min(Settings.ReplicaCount, staying.Count - 1);
            Assert.All(map.Shards, a => Assert.Equal(wanted, a.Replicas.Length));
            var primaries = staying.Select(id => map.Shards.Count(a => a.Primary == id)).ToList();
            Assert.All(primaries, c => Assert.InRange(c, shards / staying.Count, Ceiling(shards, staying.Count)));
            var replicas = staying.Select(id => map.Shards.Count(a => a.Replicas.Contains(id))).ToList();
            Assert.True(replicas.Max() - replicas.Min() <= 1, "replicas per member: " + string.Join(", ", replicas));
            foreach (var leaver in Live.Where(m => !staying.Contains(m.Id)))
            {
                Assert.Null(map.Member(leaver.Id));
                Assert.DoesNotContain(map.Shards, a => a.IsHeldBy(leaver.Id));
            }
        }
    }
}
