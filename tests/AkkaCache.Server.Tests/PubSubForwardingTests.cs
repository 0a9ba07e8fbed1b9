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
