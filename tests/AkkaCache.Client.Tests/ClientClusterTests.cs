using System.Diagnostics;
using System.Globalization;
using System.Text;
using AkkaCache.Client.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AkkaCache.Client.Tests;

/// <summary>Cluster tests start real processes: one at a time, so two cores are not shared by several clusters.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterProcesses
{
    public const string Name = "cluster processes";
}

/// <summary>The client against real node processes joined through seed nodes: routing, a rebalance, a node killed under load.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClientClusterTests(ITestOutputHelper output)
{
    private const int KeyCount = 2000;

    [Fact]
    public async Task Routes_each_key_to_its_owner_and_rides_out_a_rebalance_without_a_failed_call()
    {
        using var metrics = new ClientMetrics();
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "128");
        await using var cache = await AkkaCacheClient.ConnectAsync(string.Join(",", cluster.Nodes.Select(n => $"127.0.0.1:{n.Port}")));
        Assert.True(cache.IsClustered);
        Assert.Equal(cluster.Nodes.Select(n => $"127.0.0.1:{n.Port}").Order(), cache.Primaries.Order());

        await cache.SetManyAsync(Enumerable.Range(0, KeyCount).Select(i => new KeyValuePair<CacheKey, CacheValue>(Key(i), Value(i, 0))).ToList());
        // the client's map is right: each key is on the node it named, and no call needed a redirect
        foreach (int i in new[] { 0, 1, 2, 500, 999, 1999 })
        {
            int port = int.Parse(cache.OwnerOf(Key(i))!.Split(':')[1], CultureInfo.InvariantCulture);
            await using var direct = await RespTestClient.ConnectAsync(port);
            Assert.Equal(Value(i, 0), (await direct.SendAsync("GET", Key(i))).AsString());
        }
        Assert.Equal(0, metrics["akkacache.client.redirects"]);
        var values = await cache.GetManyAsync(Enumerable.Range(0, KeyCount).Select(i => (CacheKey)Key(i)).ToList());
        Assert.Equal(Enumerable.Range(0, KeyCount).Select(i => Value(i, 0)), values.Select(v => v is null ? null : Encoding.UTF8.GetString(v)));

        // writers and readers run through a fourth node's join: shards move under them, every call must still succeed
        using var stop = new CancellationTokenSource();
        var written = new long[KeyCount];
        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            long calls = 0;
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                // each worker owns the keys i % 6 == w, so it knows what it last wrote to them
                int i = random.Next(KeyCount / 6) * 6 + w;
                if (i >= KeyCount) continue;
                long generation = written[i] + 1;
                await cache.SetAsync(Key(i), Value(i, generation));
                written[i] = generation;
                Assert.Equal(Value(i, generation), await cache.GetStringAsync(Key(i)));
                calls++;
            }
            return calls;
        })).ToList();
        await cluster.AddNodeAsync(wait: false);
        await cluster.WaitStableAsync();
        stop.Cancel();
        long total = (await Task.WhenAll(workers)).Sum();
        output.WriteLine($"{total} set+get pairs during the join; {metrics}");
        Assert.True(metrics["akkacache.client.redirects[MOVED]"] > 0, "no -MOVED followed: " + metrics);
        Assert.Equal(0, metrics["akkacache.client.errors"]);

        // after the join the client knows the fourth node and reads everything back across all four
        await cache.RefreshTopologyAsync();
        Assert.Equal(4, cache.Primaries.Count);
        values = await cache.GetManyAsync(Enumerable.Range(0, KeyCount).Select(i => (CacheKey)Key(i)).ToList());
        for (int i = 0; i < KeyCount; i++) Assert.Equal(Value(i, written[i]), values[i] is null ? null : Encoding.UTF8.GetString(values[i]!));
    }

    [Fact]
    public async Task Follows_ask_during_a_hand_off()
    {
        using var metrics = new ClientMetrics();
        await using var cluster = await TestCluster.StartAsync(2, "--shards", "64");
        await using var cache = await AkkaCacheClient.ConnectAsync($"127.0.0.1:{cluster.Nodes[0].Port}");
        // a key in every slot range of 256 (every shard), read without pause by many callers while shards move
        var keys = Enumerable.Range(0, 64).Select(KeyInShard).ToList();
        foreach (var key in keys) await cache.SetAsync(key, key);
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 8).Select(r => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
                foreach (var key in keys) Assert.Equal(key, await cache.GetStringAsync(key));
        })).ToList();
        await cluster.AddNodeAsync(wait: false);
        await cluster.WaitStableAsync();
        stop.Cancel();
        await Task.WhenAll(readers);
        output.WriteLine(metrics.ToString());
        Assert.True(metrics["akkacache.client.redirects[ASK]"] > 0, "no -ASK followed during the hand-offs: " + metrics);
        Assert.Equal(0, metrics["akkacache.client.errors"]);
    }

    [Fact]
    public async Task A_node_killed_under_load_fails_writes_fast_retries_reads_and_never_hangs()
    {
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "128");
        await using var cache = await AkkaCacheClient.ConnectAsync(
            string.Join(",", cluster.Nodes.Select(n => $"127.0.0.1:{n.Port}")) + ",timeout=15000");
        await cache.SetManyAsync(Enumerable.Range(0, KeyCount).Select(i => new KeyValuePair<CacheKey, CacheValue>(Key(i), Value(i, 0))).ToList());
        var victim = cluster.Nodes[1];
        var victimEndPoint = $"127.0.0.1:{victim.Port}";
        var victimKeys = Enumerable.Range(0, KeyCount).Where(i => cache.OwnerOf(Key(i)) == victimEndPoint).ToList();
        Assert.NotEmpty(victimKeys);
        // every write so far is on a replica before the kill, so the promoted replica serves the same values
        await Poll.UntilAsync(async () => (await ReplicationLagsAsync(cluster)).All(lag => lag == 0), "the replicas to catch up");

        using var stop = new CancellationTokenSource();
        var slowest = TimeSpan.Zero;
        int readFailures = 0, writeFailures = 0, otherFailures = 0;
        var failures = new List<AkkaCacheException>();
        var slowestGate = new object();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                int i = victimKeys[random.Next(victimKeys.Count)];
                var watch = Stopwatch.StartNew();
                try
                {
                    if (w % 2 == 0) Assert.Equal(Value(i, 0), await cache.GetStringAsync(Key(i)));
                    else await cache.IncrementAsync("counter:" + Key(i));
                }
                catch (AkkaCacheException error) when (w % 2 == 1)
                {
                    Interlocked.Increment(ref writeFailures);
                    lock (slowestGate) failures.Add(error);
                }
                catch (AkkaCacheTimeoutException) when (w % 2 == 1)
                {
                    Interlocked.Increment(ref writeFailures);
                }
                catch (Exception error) when (error is AkkaCacheException or TimeoutException)
                {
                    Interlocked.Increment(ref w % 2 == 0 ? ref readFailures : ref otherFailures);
                }
                lock (slowestGate) if (watch.Elapsed > slowest) slowest = watch.Elapsed;
            }
        })).ToList();
        victim.Kill();
        await victim.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await cluster.WaitStableAsync();
        // calls on the promoted replicas succeed again
        await Poll.UntilAsync(async () =>
        {
            try
            {
                await cache.IncrementAsync("after:" + Key(victimKeys[0]));
                return true;
            }
            catch (AkkaCacheException)
            {
                return false;
            }
        }, "writes to the killed node's shards to succeed again");
        stop.Cancel();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"slowest call {slowest.TotalMilliseconds:F0} ms; failed reads {readFailures}, failed increments {writeFailures}");
        foreach (var failure in failures) output.WriteLine($"{failure.GetType().Name}: {failure.Message}");
        // reads were retried until the replica took over; an increment fails (fast) only if it was sent to the node as it
        // died, since it may have run: about one per increment worker (a connection the dying process's backlog still
        // completed can add one). No call outlived its timeout by much.
        Assert.Equal(0, readFailures);
        Assert.InRange(writeFailures, 0, 6);
        Assert.All(failures, f => Assert.Contains($"The connection to {victimEndPoint} was lost", f.Message));
        Assert.Equal(0, otherFailures);
        Assert.True(slowest < TimeSpan.FromSeconds(15) + TimeSpan.FromSeconds(10), $"a call took {slowest}");
        var values = await cache.GetManyAsync(victimKeys.Select(i => (CacheKey)Key(i)).ToList());
        Assert.All(victimKeys.Zip(values), pair => Assert.Equal(Value(pair.First, 0), pair.Second is null ? null : Encoding.UTF8.GetString(pair.Second)));
    }

    [Fact]
    public async Task Replica_reads_spread_a_keys_reads_over_its_primary_and_replica()
    {
        // both nodes lead shards: their replicas are listed by CLUSTER SLOTS only when the nodes advertise them
        await using var cluster = await TestCluster.StartAsync(2, "--shards", "64", "--cluster-advertise-replicas", "yes");
        var seeds = string.Join(",", cluster.Nodes.Select(n => $"127.0.0.1:{n.Port}"));
        await using var writer = await AkkaCacheClient.ConnectAsync(seeds);
        await writer.SetAsync("spread", "v");
        await Poll.UntilAsync(async () => (await ReplicationLagsAsync(cluster)).All(lag => lag == 0), "the replica to catch up");

        var owner = writer.OwnerOf("spread")!;
        var replica = cluster.Nodes.Select(n => $"127.0.0.1:{n.Port}").Single(e => e != owner);

        // by default every read goes to the primary
        var before = await HitsAsync(cluster);
        await using (var primaryOnly = await AkkaCacheClient.ConnectAsync(seeds))
            for (int i = 0; i < 100; i++) Assert.Equal("v", await primaryOnly.GetStringAsync("spread"));
        var after = await HitsAsync(cluster);
        Assert.Equal(100, after[owner] - before[owner]);
        Assert.Equal(0, after[replica] - before[replica]);

        // the replica is connected on first use, in the background: reads go to the primary until it is up
        await using var spreading = await AkkaCacheClient.ConnectAsync(seeds + ",readFromReplicas=true");
        await Poll.UntilAsync(async () =>
        {
            Assert.Equal("v", await spreading.GetStringAsync("spread"));
            return (await HitsAsync(cluster))[replica] > after[replica];
        }, "a read served by the replica");

        // then turns go primary, replica, primary...: half of the reads each
        before = await HitsAsync(cluster);
        for (int i = 0; i < 100; i++) Assert.Equal("v", await spreading.GetStringAsync("spread"));
        after = await HitsAsync(cluster);
        Assert.Equal(50, after[replica] - before[replica]);
        Assert.Equal(50, after[owner] - before[owner]);
    }

    [Fact]
    public async Task Publish_and_subscribe_meet_on_the_channels_owner_whichever_nodes_the_clients_know()
    {
        await using var cluster = await TestCluster.StartAsync(2, "--shards", "64");
        await using var subscriber = await AkkaCacheClient.ConnectAsync($"127.0.0.1:{cluster.Nodes[0].Port}");
        await using var publisher = await AkkaCacheClient.ConnectAsync($"127.0.0.1:{cluster.Nodes[1].Port}");
        var channels = Enumerable.Range(0, 20).Select(i => $"channel:{i}").ToList();
        Assert.Equal(2, channels.Select(c => subscriber.OwnerOf(c)).Distinct().Count());
        var received = new System.Collections.Concurrent.ConcurrentBag<string>();
        var subscriptions = new List<AkkaCacheSubscription>();
        foreach (var channel in channels)
            subscriptions.Add(await subscriber.SubscribeAsync(channel, (c, m) => received.Add($"{c}={Encoding.UTF8.GetString(m)}")));
        foreach (var channel in channels) Assert.Equal(1, await publisher.PublishAsync(channel, "hi"));
        await Poll.UntilAsync(() => Task.FromResult(received.Count == channels.Count), "every message");
        Assert.Equal(channels.Select(c => $"{c}=hi").Order(), received.Order());
        foreach (var subscription in subscriptions) await subscription.DisposeAsync();
    }

    private static async Task<Dictionary<string, long>> HitsAsync(TestCluster cluster)
    {
        var hits = new Dictionary<string, long>();
        foreach (var node in cluster.Running)
            hits[$"127.0.0.1:{node.Port}"] = long.Parse(TestCluster.Field(await TestCluster.TextAsync(node, "INFO", "stats"), "keyspace_hits")!, CultureInfo.InvariantCulture);
        return hits;
    }

    private static async Task<List<long>> ReplicationLagsAsync(TestCluster cluster)
    {
        var lags = new List<long>();
        foreach (var node in cluster.Running)
        {
            var info = await TestCluster.TextAsync(node, "INFO", "replication");
            foreach (var line in info.Split('\n'))
                if (line.StartsWith("akkacache_repl_lag_writes:", StringComparison.Ordinal) || line.StartsWith("akkacache_repl_streams_lagging:", StringComparison.Ordinal))
                    lags.Add(long.Parse(line.Split(':')[1].Trim(), CultureInfo.InvariantCulture));
        }
        return lags;
    }

    private static string Key(int i) => "key:" + i.ToString(CultureInfo.InvariantCulture);
    private static string Value(int i, long generation) => $"value-{i}-{generation}";

    /// <summary>A key whose slot lies in shard <paramref name="shard"/> of 64 (slots 256·shard .. 256·shard+255).</summary>
    private static string KeyInShard(int shard)
    {
        for (int n = 0; ; n++)
        {
            var key = $"s{shard}:{n}";
            if (AkkaCache.Protocol.HashSlot.Of(Encoding.UTF8.GetBytes(key)) / 256 == shard) return key;
        }
    }
}
