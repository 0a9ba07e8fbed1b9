using AkkaCache.Cluster.Sharding;
using AkkaCache.Cluster.Topology;
using AkkaCache.Server.PubSub;
using AkkaCache.Server.Tests.Infrastructure;
using static AkkaCache.Server.Tests.PubSubTests;

namespace AkkaCache.Server.Tests;

/// <summary>The receiving end of cluster-wide PUBLISH: what another member's forwarding link sends (AC.PUBSUBHELLO, AC.PUBLISHLOCAL).</summary>
public sealed class PubSubForwardingTests
{
    [Fact]
    public async Task A_forwarded_message_is_delivered_to_this_nodes_subscribers_only_and_counted()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await using var peer = await node.ConnectAsync();
        Assert.Equal(Confirmation("subscribe", "news", 1), await subscriber.SendAsync("SUBSCRIBE", "news"));
        (await peer.SendAsync("AC.PUBSUBHELLO")).AssertOk();
        Assert.Equal(1, (await peer.SendAsync("AC.PUBLISHLOCAL", "news", "from a peer")).Int());
        Assert.Equal(Message("news", "from a peer"), await subscriber.ReadAsync());
    }

    [Fact]
    public async Task A_peer_link_is_not_closed_by_the_idle_timeout()
    {
        var clock = new ManualClock();
        await using var node = await TestNode.StartAsync(o => o.Timeout = 5, clock);
        await using var peer = await node.ConnectAsync();
        await using var idle = await node.ConnectAsync();
        (await peer.SendAsync("AC.PUBSUBHELLO")).AssertOk();
        await idle.SendAsync("PING");
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.True(await idle.IsClosedByServerAsync());
        Assert.Equal(0, (await peer.SendAsync("AC.PUBLISHLOCAL", "news", "still open")).Int());
    }

}

/// <summary>The sending end: forwarding to a peer allocates nothing per message (no task, no queue node), counted process-wide.</summary>
[Collection(nameof(AllocationTests))]
public sealed class PubSubForwarderAllocationTests
{
    [Fact]
    public async Task Forwarding_allocates_nothing_per_message_and_keeps_publish_order()
    {
        await using var peer = await TestNode.StartAsync();
        var map = ShardMap.Empty(64, 0) with { Epoch = 1, Members = [new ClusterMember("self", "127.0.0.1", 1), new ClusterMember("peer", "127.0.0.1", peer.Port)] };
        var topology = new ClusterTopology(map, "self");
        await using var forwarder = new PubSubForwarder("self", password: null, () => topology);
        forwarder.Refresh();
        await using var subscriber = await peer.ConnectAsync();
        Assert.Equal(Confirmation("subscribe", "ch", 1), await subscriber.SendAsync("SUBSCRIBE", "ch"));

        var channel = "nobody-listens"u8.ToArray();
        var message = "message"u8.ToArray();
        void Run(int count)
        {
            for (int i = 0; i < count; i++) forwarder.Forward(channel, message);
        }
        // warmed up (tiered JIT, the link's buffers, the peer's connection), then the least of several windows
        long least = await AllocationTests.LeastBytesPerRequestAsync(count =>
        {
            Run(count);
            return Task.CompletedTask;
        });
        Assert.True(least < 8, $"{least} bytes allocated per forwarded message");

        for (int i = 0; i < 3; i++) forwarder.Forward("ch"u8, System.Text.Encoding.ASCII.GetBytes("m" + i));
        for (int i = 0; i < 3; i++) Assert.Equal(Message("ch", "m" + i), await subscriber.ReadAsync());
        Assert.Equal(0, forwarder.Dropped);
    }
}
