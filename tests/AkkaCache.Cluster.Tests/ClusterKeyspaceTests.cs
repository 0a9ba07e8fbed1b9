using System.Globalization;
using AkkaCache.Cluster.Tests.Infrastructure;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.Tests;

/// <summary>A node's own keyspace in a cluster: what it leads, not the copies it holds of other nodes' shards.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClusterKeyspaceTests
{
    private const string ExpiredChannel = "__keyevent@0__:expired";

    [Fact]
    public async Task Info_db0_counts_the_keys_a_node_leads_as_dbsize_does_and_replica_copies_on_their_own_line()
    {
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "64");
        await using (var writer = new RedirectingClient(cluster))
        {
            for (int i = 0; i < 300; i++) (await writer.SendAsync("SET", "count:" + i, "v")).AssertOk();
            for (int i = 0; i < 30; i++) (await writer.SendAsync("SET", "ttl:" + i, "v", "EX", "1000")).AssertOk();
        }
        await cluster.WaitReplicatedAsync();

        long led = 0, ledVolatile = 0, copies = 0, copiesVolatile = 0;
        foreach (var node in cluster.Nodes)
        {
            string info = await TestCluster.TextAsync(node, "INFO", "keyspace");
            var db0 = Parse(TestCluster.Field(info, "db0")!);
            var replicaCopies = Parse(TestCluster.Field(info, "akkacache_replica_copies")!);
            await using var client = await RespTestClient.ConnectAsync(node.Port);
            Assert.Equal((await client.SendAsync("DBSIZE")).Int(), db0["keys"]);
            led += db0["keys"];
            ledVolatile += db0["expires"];
            copies += replicaCopies["keys"];
            copiesVolatile += replicaCopies["expires"];
        }
        // every key is led by exactly one node, and with one replica held once more elsewhere
        Assert.Equal((330, 30), (led, ledVolatile));
        Assert.Equal((330, 30), (copies, copiesVolatile));

        static Dictionary<string, long> Parse(string fields) => fields.Split(',')
            .Select(f => f.Split('='))
            .Where(p => p[0] is "keys" or "expires")
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task One_expiry_is_announced_once_by_the_primary_and_not_again_by_its_replica()
    {
        await using var cluster = await TestCluster.StartAsync(2, "--shards", "64", "--notify-keyspace-events", "Ex");
        var ranges = await ClusterContractTests.SlotRangesAsync(cluster.Nodes[0]);
        NodeProcess primary = cluster.Nodes[0], replica = cluster.Nodes[1];
        string key = Enumerable.Range(0, 100_000).Select(i => "expiring:" + i)
            .First(k => ranges.Single(r => r.First <= ClusterContractTests.Slot(k) && ClusterContractTests.Slot(k) <= r.Last).Port == primary.Port);

        await using var onPrimary = await RespTestClient.ConnectAsync(primary.Port);
        await using var onReplica = await RespTestClient.ConnectAsync(replica.Port);
        foreach (var subscriber in new[] { onPrimary, onReplica })
            Assert.Equal("subscribe", (await subscriber.SendAsync("SUBSCRIBE", ExpiredChannel)).Items![0].AsString());

        await using var client = await RespTestClient.ConnectAsync(primary.Port);
        (await client.SendAsync("SET", key, "v", "PX", "300")).AssertOk();
        Assert.Equal(1, (await client.SendAsync("WAIT", "1", "10000")).Int()); // the replica holds the copy, with its expiry
        // the primary removes it once it is due, on a read if its active cycle has not yet
        await Poll.UntilAsync(async () => (await client.SendAsync("GET", key)).IsNull, "the key to expire on its primary");
        Assert.Equal(Message(key), await onPrimary.ReadAsync());

        // the replica's copy has expired too: reading it there removes it (if the active cycle has not) without a word
        await using var replicaReader = await RespTestClient.ConnectAsync(replica.Port);
        (await replicaReader.SendAsync("READONLY")).AssertOk();
        Assert.True((await replicaReader.SendAsync("GET", key)).IsNull);
        // published after that read: an announcement of the replica's own would have come before it
        await replicaReader.SendAsync("PUBLISH", ExpiredChannel, "marker");
        Assert.Equal(Message("marker"), await onReplica.ReadAsync());
        Assert.Equal(Message("marker"), await onPrimary.ReadAsync());
    }

    private static RespValue Message(string text) =>
        RespValue.Array(RespValue.BulkString("message"), RespValue.BulkString(ExpiredChannel), RespValue.BulkString(text));
}
