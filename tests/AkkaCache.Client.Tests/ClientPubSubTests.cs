using System.Collections.Concurrent;
using System.Text;
using AkkaCache.Client.Tests.Infrastructure;

namespace AkkaCache.Client.Tests;

/// <summary>PublishAsync / SubscribeAsync against real nodes.</summary>
public sealed class ClientPubSubTests
{
    [Fact]
    public async Task Subscribers_get_what_is_published_after_they_subscribed_until_they_unsubscribe()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var subscriber = await AkkaCacheClient.ConnectAsync(node.EndPoint);
        await using var publisher = await AkkaCacheClient.ConnectAsync(node.EndPoint);
        var received = new BlockingCollection<(string Channel, string Message)>();

        var subscription = await subscriber.SubscribeAsync("news", (channel, message) => received.Add((channel, Encoding.UTF8.GetString(message))));
        Assert.Equal("news", subscription.Channel);
        Assert.Equal(1, await publisher.PublishAsync("news", "first"));
        Assert.Equal(0, await publisher.PublishAsync("other", "not for us"));
        Assert.Equal(1, await publisher.PublishAsync("news", new byte[] { 0xE2, 0x82, 0xAC }));
        Assert.True(received.TryTake(out var first, TimeSpan.FromSeconds(30)));
        Assert.Equal(("news", "first"), first);
        Assert.True(received.TryTake(out var second, TimeSpan.FromSeconds(30)));
        Assert.Equal(("news", "€"), second);

        await subscription.DisposeAsync();
        await Poll.UntilAsync(async () => await publisher.PublishAsync("news", "gone") == 0, "the unsubscribe to reach the node");
    }

    [Fact]
    public async Task Pattern_subscriptions_name_the_channel_a_message_came_on()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var cache = await AkkaCacheClient.ConnectAsync(node.EndPoint);
        var received = new BlockingCollection<string>();
        await using var subscription = await cache.SubscribePatternAsync("orders:*", (channel, message) => received.Add($"{channel}={Encoding.UTF8.GetString(message)}"));
        Assert.True(subscription.IsPattern);
        Assert.Equal(1, await cache.PublishAsync("orders:eu", "1"));
        Assert.Equal(0, await cache.PublishAsync("invoices:eu", "2"));
        Assert.True(received.TryTake(out var message, TimeSpan.FromSeconds(30)));
        Assert.Equal("orders:eu=1", message);
    }

    [Fact]
    public async Task A_subscription_survives_its_connection_being_cut()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var relay = new TcpRelay(node.Port);
        await using var subscriber = await AkkaCacheClient.ConnectAsync(relay.EndPoint);
        await using var publisher = await AkkaCacheClient.ConnectAsync(node.EndPoint);
        var received = new BlockingCollection<string>();
        await using var subscription = await subscriber.SubscribeAsync("events", (_, message) => received.Add(Encoding.UTF8.GetString(message)));

        relay.CutAll();
        // subscribed again by the maintenance pass: publish until a message arrives
        await Poll.UntilAsync(async () =>
        {
            await publisher.PublishAsync("events", "after the cut");
            return received.TryTake(out var message, TimeSpan.FromMilliseconds(100)) && message == "after the cut";
        }, "the subscription to be restored");
    }

    [Fact]
    public async Task A_throwing_handler_does_not_stop_delivery_to_the_others()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var cache = await AkkaCacheClient.ConnectAsync(node.EndPoint);
        var received = new BlockingCollection<string>();
        await using var bad = await cache.SubscribeAsync("c", (_, _) => throw new InvalidOperationException("handler bug"));
        await using var good = await cache.SubscribeAsync("c", (_, message) => received.Add(Encoding.UTF8.GetString(message)));
        await cache.PublishAsync("c", "1");
        await cache.PublishAsync("c", "2");
        Assert.True(received.TryTake(out var one, TimeSpan.FromSeconds(30)));
        Assert.True(received.TryTake(out var two, TimeSpan.FromSeconds(30)));
        Assert.Equal(("1", "2"), (one, two));
    }
}
