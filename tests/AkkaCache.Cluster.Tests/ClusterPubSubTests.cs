using System.Globalization;
using AkkaCache.Cluster.Tests.Infrastructure;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.Tests;

/// <summary>Cluster-wide PUBLISH: a message published on one node reaches subscribers on every node, in publish order.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClusterPubSubTests
{
    private const string Password = "s3cret";

    private static RespValue Message(string channel, string message) =>
        RespValue.Array(RespValue.BulkString("message"), RespValue.BulkString(channel), RespValue.BulkString(message));

    private static RespValue PMessage(string pattern, string channel, string message) =>
        RespValue.Array(RespValue.BulkString("pmessage"), RespValue.BulkString(pattern), RespValue.BulkString(channel), RespValue.BulkString(message));

    private static RespValue Push(RespValue array) => RespValue.Push([.. array.Items!]);

    private static async Task<RespTestClient> ConnectAsync(NodeProcess node, bool resp3)
    {
        var client = await RespTestClient.ConnectAsync(node.Port);
        if (resp3) Assert.False((await client.SendAsync("HELLO", "3", "AUTH", "default", Password)).IsError);
        else (await client.SendAsync("AUTH", Password)).AssertOk();
        return client;
    }

    [Fact]
    public async Task A_publish_on_one_node_reaches_subscribers_on_every_node_in_order_with_requirepass()
    {
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "64", "--requirepass", Password);
        var nodes = cluster.Nodes;

        // RESP2 and RESP3 subscribers, one per node, plus a pattern subscriber on another node than the publisher's
        var subscribers = new List<(RespTestClient Client, bool Resp3)>();
        for (int i = 0; i < nodes.Count; i++)
        {
            bool resp3 = i == 1;
            var client = await ConnectAsync(nodes[i], resp3);
            var confirmation = await client.SendAsync("SUBSCRIBE", "news");
            Assert.Equal("subscribe", confirmation.Items![0].AsString());
            subscribers.Add((client, resp3));
        }
        await using var patternSubscriber = await ConnectAsync(nodes[2], resp3: false);
        Assert.Equal("psubscribe", (await patternSubscriber.SendAsync("PSUBSCRIBE", "ne*")).Items![0].AsString());

        try
        {
            await using var publisher = await ConnectAsync(nodes[0], resp3: false);
            const int count = 50;
            for (int i = 0; i < count; i++)
            {
                // the count is the publishing node's own receivers, as Redis Cluster answers
                Assert.Equal(1, (await publisher.SendAsync("PUBLISH", "news", "m" + i.ToString(CultureInfo.InvariantCulture))).Int());
            }
            for (int i = 0; i < count; i++)
            {
                string text = "m" + i.ToString(CultureInfo.InvariantCulture);
                foreach (var (client, resp3) in subscribers)
                    Assert.Equal(resp3 ? Push(Message("news", text)) : Message("news", text), await client.ReadAsync());
                Assert.Equal(PMessage("ne*", "news", text), await patternSubscriber.ReadAsync());
            }

            // PUBSUB stays node-local, as in Redis Cluster
            var numsub = await publisher.SendAsync("PUBSUB", "NUMSUB", "news");
            Assert.Equal(1, numsub.Items![1].Int());
            var stats = (await publisher.SendAsync("INFO", "stats")).AsString()!;
            Assert.Equal("0", TestCluster.Field(stats, "pubsub_forward_dropped"));
        }
        finally
        {
            foreach (var (client, _) in subscribers) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Publishes_to_a_dead_peer_are_dropped_and_counted_and_a_new_member_gets_the_next_ones()
    {
        await using var cluster = await TestCluster.StartAsync(2, "--shards", "64", "--requirepass", Password);
        // of two members, keep-majority keeps the one with the lower address: the other is the one to kill
        var ordered = cluster.Nodes.OrderBy(n => n.ClusterPort).ToList();
        var (alive, victim) = (ordered[0], ordered[1]);
        await using var publisher = await ConnectAsync(alive, resp3: false);
        victim.Kill();
        // the publisher is never held up by the dead peer: every PUBLISH answers, and the lost ones are counted
        int sent = 0;
        await Poll.UntilAsync(async () =>
        {
            Assert.Equal(0, (await publisher.SendAsync("PUBLISH", "news", "lost" + sent++)).Int());
            var stats = (await publisher.SendAsync("INFO", "stats")).AsString()!;
            return long.Parse(TestCluster.Field(stats, "pubsub_forward_dropped")!, CultureInfo.InvariantCulture) > 0;
        }, "a dropped forward counted in INFO");

        // stable: the publisher's map names the new member, and it forwards to every member its map names
        var joined = await cluster.AddNodeAsync();
        await using var subscriber = await ConnectAsync(joined, resp3: false);
        Assert.Equal("subscribe", (await subscriber.SendAsync("SUBSCRIBE", "news")).Items![0].AsString());
        Assert.Equal(0, (await publisher.SendAsync("PUBLISH", "news", "welcome")).Int());
        Assert.Equal(Message("news", "welcome"), await subscriber.ReadAsync());
    }

    [Fact]
    public async Task Clients_cannot_reach_the_forwarding_command_without_auth()
    {
        await using var cluster = await TestCluster.StartAsync(1, "--shards", "64", "--requirepass", Password);
        await using var client = await RespTestClient.ConnectAsync(cluster.Nodes[0].Port);
        (await client.SendAsync("AC.PUBLISHLOCAL", "news", "x")).AssertErrorStartsWith("NOAUTH");
    }
}
