using System.Globalization;
using AkkaCache.Cluster.Tests.Infrastructure;
using AkkaCache.Core.Keyspace;

namespace AkkaCache.Cluster.Tests;

/// <summary>Cluster tests start real processes: one at a time, so two cores are not shared by several clusters.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterProcesses
{
    public const string Name = "cluster processes";
}

/// <summary>The client-facing Redis Cluster contract, on real node processes joined through seed nodes.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClusterContractTests
{
    [Fact]
    public async Task A_node_whose_seeds_are_down_keeps_retrying_says_so_and_serves_no_key_until_they_come_up()
    {
        int seedPort = NodeProcess.FreePort(), seedClusterPort = NodeProcess.FreePort();
        string seeds = $"127.0.0.1:{seedClusterPort}";
        string name = "late" + Guid.NewGuid().ToString("N")[..6];
        await using var node = NodeProcess.StartClusterNode(seeds, name, "lonely");
        await node.WaitReadyAsync();
        await Poll.UntilAsync(() => node.Output.Contains($"no seed node at {seeds} let this node in; retrying", StringComparison.Ordinal),
            "the node to say that no seed answers", TimeSpan.FromSeconds(30));
        Assert.False(node.HasExited);
        await using (var client = await RespTestClient.ConnectAsync(node.Port))
        {
            (await client.SendAsync("SET", "k", "v")).AssertErrorStartsWith("CLUSTERDOWN");
            (await client.SendAsync("GET", "k")).AssertErrorStartsWith("CLUSTERDOWN");
        }
        Assert.Equal("fail", TestCluster.Field(await TestCluster.InfoAsync(node), "cluster_state"));

        // the seed comes up: the waiting node joins it and the two serve every slot
        await using var seed = NodeProcess.StartClusterNode(seeds, name, "seed", seedPort, seedClusterPort);
        await seed.WaitReadyAsync();
        await Poll.UntilAsync(async () => TestCluster.Field(await TestCluster.InfoAsync(node), "cluster_state") == "ok"
                                          && TestCluster.Field(await TestCluster.InfoAsync(node), "cluster_known_nodes") == "2",
            "the node to join once its seed is up", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_node_configured_by_a_hocon_file_alone_joins_and_one_with_a_bad_value_exits_with_status_2()
    {
        await using var cluster = await TestCluster.StartAsync(1);
        string directory = Directory.CreateTempSubdirectory("akkacache-conf-").FullName;
        try
        {
            int port = NodeProcess.FreePort(), clusterPort = NodeProcess.FreePort();
            string good = Path.Combine(directory, "node.conf");
            await File.WriteAllTextAsync(good, $$"""
                akkacache {
                  port = {{port}}
                  cluster-enabled = yes
                  cluster-port = {{clusterPort}}
                  seed-nodes = "{{cluster.SeedNodes}}"
                  cluster-name = {{cluster.Name}}
                  node-id = from-file
                  announce = "127.0.0.1:{{port}}"
                }
                akka.cluster.failure-detector.acceptable-heartbeat-pause = 2 s
                """);
            await using (var node = NodeProcess.Start("from-file", port, ["--config", good]))
            {
                await node.WaitReadyAsync();
                await Poll.UntilAsync(async () => TestCluster.Field(await TestCluster.InfoAsync(node), "cluster_known_nodes") == "2",
                    "the node configured by its file to join", TimeSpan.FromSeconds(60));
            }

            string bad = Path.Combine(directory, "bad.conf");
            await File.WriteAllTextAsync(bad, "akkacache { cluster-enabled = yes\n replicas = 9 }");
            await using var refused = NodeProcess.Start("bad", NodeProcess.FreePort(), ["--config", bad]);
            await refused.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("Invalid AkkaCache:Replicas 9: expected 0..5.", refused.Output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_node_with_another_shard_count_than_the_cluster_is_refused_and_exits_with_status_2()
    {
        await using var cluster = await TestCluster.StartAsync(1);
        await using var odd = NodeProcess.StartClusterNode(cluster.SeedNodes, cluster.Name, "odd", extra: ["--shards", "64"]);
        await odd.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, odd.ExitCode);
        Assert.Contains($"Cluster '{cluster.Name}' has 1024 shards, fixed when it was created; this node was started with --shards 64.", odd.Output);
        // it never held a shard and it left: the cluster is one node again
        await Poll.UntilAsync(async () => TestCluster.Field(await TestCluster.InfoAsync(cluster.Nodes[0]), "cluster_known_nodes") == "1",
            "the refused node to be gone from the map", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Every_slot_is_served_and_primaries_stay_balanced_as_nodes_join_one_to_five()
    {
        await using var cluster = await TestCluster.StartAsync(1);
        for (int size = 1; size <= 5; size++)
        {
            if (size > 1) await cluster.AddNodeAsync();
            foreach (var node in cluster.Running)
            {
                var slots = TestCluster.SlotsPerNode(await TestCluster.TextAsync(node, "CLUSTER", "NODES"));
                Assert.Equal(size, slots.Count);
                Assert.Equal(HashSlot.Count, slots.Values.Sum());
                // 1024 shards of 16 slots: balanced to within one shard per node
                Assert.True(slots.Values.Max() - slots.Values.Min() <= 16, $"{size} nodes: {string.Join(", ", slots)}");
            }
            var ranges = await SlotRangesAsync(cluster.Running.First());
            Assert.Equal(Enumerable.Range(0, HashSlot.Count), ranges.SelectMany(r => Enumerable.Range(r.First, r.Last - r.First + 1)).Order());
        }
    }

    [Fact]
    public async Task Redis_cli_in_cluster_mode_writes_and_reads_through_any_node()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var nodes = cluster.Running.ToList();
        for (int i = 0; i < 30; i++)
        {
            var (code, output) = await RedisCli.RunAsync(nodes[i % 3].Port, "-c", "SET", $"user:{i}", $"value-{i}");
            Assert.True(code == 0 && output.Trim() == "OK", output);
        }
        for (int i = 0; i < 30; i++)
        {
            var (code, output) = await RedisCli.RunAsync(nodes[(i + 1) % 3].Port, "-c", "GET", $"user:{i}");
            Assert.True(code == 0, output);
            Assert.Equal($"value-{i}", output.Trim());
        }
    }

    [Fact]
    public async Task Redirects_and_refusals_follow_the_redis_cluster_formats()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var nodes = cluster.Running.ToList();
        await using var first = await RespTestClient.ConnectAsync(nodes[0].Port);
        await using var second = await RespTestClient.ConnectAsync(nodes[1].Port);

        Assert.Equal(12182, (await first.SendAsync("CLUSTER", "KEYSLOT", "foo")).Int());
        var info = (await first.SendAsync("INFO", "server")).AsString()!;
        Assert.Contains("redis_mode:cluster", info);
        Assert.Contains("cluster_enabled:1", (await first.SendAsync("INFO", "cluster")).AsString());
        Assert.Equal("yes", (await first.SendAsync("CONFIG", "GET", "cluster-enabled")).Items![1].AsString());

        // the node that owns slot 12182 answers; the other sends the client there with the exact -MOVED line
        var ranges = await SlotRangesAsync(nodes[0]);
        int ownerPort = ranges.Single(r => r.First <= 12182 && 12182 <= r.Last).Port;
        var owner = ownerPort == nodes[0].Port ? first : second;
        var other = ownerPort == nodes[0].Port ? second : first;
        (await owner.SendAsync("SET", "foo", "bar")).AssertOk();
        Assert.Equal($"MOVED 12182 127.0.0.1:{ownerPort}", (await other.SendAsync("GET", "foo")).AsString());
        Assert.Equal($"MOVED 12182 127.0.0.1:{ownerPort}", (await other.SendAsync("SET", "foo", "x")).AsString());

        // keys of one command must share a slot; hash tags make them
        (await owner.SendAsync("MSET", "{foo}a", "1", "{foo}b", "2")).AssertOk();
        (await owner.SendAsync("MSET", "foo", "1", "bar", "2")).AssertError("CROSSSLOT Keys in request don't hash to the same slot");
        Assert.Equal("bar", (await owner.SendAsync("GET", "foo")).AsString()); // the refused MSET changed nothing

        Assert.Equal(3, (await owner.SendAsync("CLUSTER", "COUNTKEYSINSLOT", "12182")).Int());
        var keys = (await owner.SendAsync("CLUSTER", "GETKEYSINSLOT", "12182", "10")).Items!.Select(k => k.AsString()).Order();
        Assert.Equal(["foo", "{foo}a", "{foo}b"], keys);
        (await owner.SendAsync("CLUSTER", "COUNTKEYSINSLOT", "16384")).AssertError("ERR Invalid or out of range slot");

        // MYID is this node's line marked myself in CLUSTER NODES
        string myId = (await owner.SendAsync("CLUSTER", "MYID")).AsString()!;
        var myLine = (await owner.SendAsync("CLUSTER", "NODES")).AsString()!.Split('\n').Single(l => l.Contains("myself"));
        Assert.StartsWith(myId + " 127.0.0.1:" + ownerPort, myLine);

        // READONLY lets the replica serve reads (replicas default to 1), never writes
        await Poll.UntilAsync(async () =>
        {
            await other.SendAsync("READONLY");
            var read = await other.SendAsync("GET", "foo");
            return !read.IsError && read.AsString() == "bar";
        }, "the replica to serve the replicated value after READONLY");
        Assert.StartsWith("MOVED", (await other.SendAsync("SET", "foo", "x")).AsString());
        (await other.SendAsync("READWRITE")).AssertOk();
        Assert.StartsWith("MOVED", (await other.SendAsync("GET", "foo")).AsString());

        // WAIT counts the replicas that acknowledged this connection's last write
        (await owner.SendAsync("SET", "foo", "waited")).AssertOk();
        Assert.Equal(1, (await owner.SendAsync("WAIT", "1", "5000")).Int());
        (await owner.SendAsync("WAIT", "-1", "0")).AssertError("ERR value is out of range, must be positive");

        // what the leader asks before moves and failovers: per-shard sizes of the shards a node leads, and how far each
        // node got in each shard's stream (the replica applied what WAIT confirmed; the primary wrote at least that)
        int shard = 12182 / 16;
        var sizes = (await owner.SendAsync("AC.RSIZES")).Items!;
        Assert.Equal(1024, sizes.Count);
        Assert.True(sizes[shard].Integer > 0);
        Assert.Equal(-1, (await other.SendAsync("AC.RSIZES")).Items![shard].Integer);
        long applied = (await other.SendAsync("AC.ROFFSETS")).Items![shard].Integer;
        Assert.True(applied > 0);
        Assert.True((await owner.SendAsync("AC.ROFFSETS")).Items![shard].Integer >= applied);

        // ASKING is one-shot and only opens shards being imported: here nothing is, so it changes nothing
        (await other.SendAsync("ASKING")).AssertOk();
        Assert.StartsWith("MOVED", (await other.SendAsync("GET", "foo")).AsString());

        (await first.SendAsync("CLUSTER", "NOSUCH")).AssertErrorStartsWith("ERR unknown subcommand 'NOSUCH'");
        // replication records from a plain client are refused with an answer (a link gets none) and change nothing
        (await owner.SendAsync("AC.RSET", "0", "1", "foo", "forged", "0")).AssertError("ERR AC.RSET is for replication links only (AC.RHELLO first)");
        Assert.Equal("waited", (await owner.SendAsync("GET", "foo")).AsString());
    }

    [Fact]
    public async Task In_proxy_mode_any_node_answers_for_every_key_without_redirects()
    {
        await using var cluster = await TestCluster.StartAsync(2, "--cluster-proxy", "yes");
        var nodes = cluster.Running.ToList();
        await using var first = await RespTestClient.ConnectAsync(nodes[0].Port);
        await using var second = await RespTestClient.ConnectAsync(nodes[1].Port);
        for (int i = 0; i < 100; i++) (await first.SendAsync("SET", "plain:" + i, "v" + i)).AssertOk();
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal("v" + i, (await second.SendAsync("GET", "plain:" + i)).AsString());
            Assert.Equal(1, (await first.SendAsync("EXISTS", "plain:" + i)).Int());
        }
        // errors come back from the owner unchanged, and a client that is not cluster-aware needs nothing else
        (await second.SendAsync("INCR", "plain:1")).AssertError("ERR value is not an integer or out of range");
        var (code, output) = await RedisCli.RunAsync(nodes[0].Port, "GET", "plain:42");
        Assert.True(code == 0 && output.Trim() == "v42", output);
        // inside MULTI a transaction stays on one node: the client is told where to go
        (await first.SendAsync("MULTI")).AssertOk();
        var queued = await first.SendAsync("GET", "foo");
        var exec = await first.SendAsync("EXEC");
        Assert.True(queued.AsString() == "QUEUED" || queued.AsString()!.StartsWith("MOVED", StringComparison.Ordinal), queued.ToString());
        Assert.False(exec.IsError && !exec.AsString()!.StartsWith("EXECABORT", StringComparison.Ordinal), exec.ToString());
    }

    [Fact]
    public async Task With_requirepass_replication_and_the_proxy_authenticate_between_nodes()
    {
        await using var cluster = await TestCluster.StartAsync(2, "--requirepass", "s3cret", "--cluster-proxy", "yes");
        var nodes = cluster.Running.ToList();
        await using var client = await RespTestClient.ConnectAsync(nodes[0].Port);
        (await client.SendAsync("GET", "k")).AssertErrorStartsWith("NOAUTH");
        (await client.SendAsync("AUTH", "s3cret")).AssertOk();
        for (int i = 0; i < 20; i++)
        {
            // through the proxy when node 1 leads the key; WAIT then counts the owner's replica for the owner's own write
            (await client.SendAsync("SET", "auth:" + i, "v" + i)).AssertOk();
            Assert.Equal("v" + i, (await client.SendAsync("GET", "auth:" + i)).AsString());
        }
        // a key node 0 leads itself: its replica on node 1 acknowledges over an authenticated link
        var slots = (await client.SendAsync("CLUSTER", "SLOTS")).Items!
            .Where(r => r.Items![2].Items![1].Integer == nodes[0].Port)
            .Select(r => (First: r.Items![0].Integer, Last: r.Items[1].Integer)).ToList();
        string key = Enumerable.Range(0, 100_000).Select(i => "mine:" + i)
            .First(k => slots.Any(r => r.First <= Slot(k) && Slot(k) <= r.Last));
        (await client.SendAsync("SET", key, "x")).AssertOk();
        Assert.Equal(1, (await client.SendAsync("WAIT", "1", "10000")).Int());
    }

    internal static int Slot(string key) => HashSlot.Of(System.Text.Encoding.UTF8.GetBytes(key));

    internal sealed record SlotRange(int First, int Last, int Port);

    internal static async Task<List<SlotRange>> SlotRangesAsync(NodeProcess node)
    {
        await using var client = await RespTestClient.ConnectAsync(node.Port);
        var reply = await client.SendAsync("CLUSTER", "SLOTS");
        return reply.Items!.Select(r => new SlotRange((int)r.Items![0].Integer, (int)r.Items[1].Integer,
            (int)r.Items[2].Items![1].Integer)).ToList();
    }

    internal static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
