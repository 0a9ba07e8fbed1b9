using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;
using static AkkaCache.Server.Tests.PubSubTests;

namespace AkkaCache.Server.Tests;

/// <summary>notify-keyspace-events: __keyspace@0__ / __keyevent@0__ messages for set, del, expire, incrby, expired and evicted.</summary>
public sealed class KeyspaceNotificationTests
{
    private static async Task SubscribeAsync(RespTestClient client, params string[] channels)
    {
        await client.SendRawAsync(RespRequestEncoder.Encode(["SUBSCRIBE", .. channels]));
        foreach (var channel in channels) Assert.Equal(Confirmation("subscribe", channel, Array.IndexOf(channels, channel) + 1), await client.ReadAsync());
    }

    [Fact]
    public async Task Notifications_are_off_by_default()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await using var client = await node.ConnectAsync();
        Assert.Equal("", (await client.SendAsync("CONFIG", "GET", "notify-keyspace-events")).Items![1].Text());
        Assert.Equal(Confirmation("psubscribe", "*", 1), await subscriber.SendAsync("PSUBSCRIBE", "*"));
        (await client.SendAsync("SET", "a", "1")).AssertOk();
        Assert.Equal(1, (await client.SendAsync("DEL", "a")).Int());
        Assert.Equal(1, (await client.SendAsync("PUBLISH", "marker", "done")).Int());
        // published synchronously in order: a notification would have come before the marker
        Assert.Equal(PMessage("*", "marker", "done"), await subscriber.ReadAsync());
    }

    [Fact]
    public async Task Config_set_enables_set_del_expire_and_incrby_on_both_channel_kinds()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CONFIG", "SET", "notify-keyspace-events", "KEA")).AssertOk();
        Assert.Equal("AKE", (await client.SendAsync("CONFIG", "GET", "notify-keyspace-events")).Items![1].Text());
        await SubscribeAsync(subscriber, "__keyspace@0__:k", "__keyevent@0__:set", "__keyevent@0__:expire", "__keyevent@0__:del", "__keyevent@0__:incrby");

        (await client.SendAsync("SET", "k", "v")).AssertOk();
        Assert.Equal(Message("__keyspace@0__:k", "set"), await subscriber.ReadAsync());
        Assert.Equal(Message("__keyevent@0__:set", "k"), await subscriber.ReadAsync());
        Assert.Equal(1, (await client.SendAsync("EXPIRE", "k", "100")).Int());
        Assert.Equal(Message("__keyspace@0__:k", "expire"), await subscriber.ReadAsync());
        Assert.Equal(Message("__keyevent@0__:expire", "k"), await subscriber.ReadAsync());
        Assert.Equal(1, (await client.SendAsync("DEL", "k", "missing")).Int());
        Assert.Equal(Message("__keyspace@0__:k", "del"), await subscriber.ReadAsync());
        Assert.Equal(Message("__keyevent@0__:del", "k"), await subscriber.ReadAsync());
        Assert.Equal(3, (await client.SendAsync("INCRBY", "n", "3")).Int());
        Assert.Equal(Message("__keyevent@0__:incrby", "n"), await subscriber.ReadAsync());

        (await client.SendAsync("CONFIG", "SET", "notify-keyspace-events", "")).AssertOk();
        (await client.SendAsync("SET", "k", "again")).AssertOk();
        await client.SendAsync("PUBLISH", "__keyevent@0__:set", "marker");
        Assert.Equal(Message("__keyevent@0__:set", "marker"), await subscriber.ReadAsync());
    }

    [Fact]
    public async Task A_key_removed_by_expiry_is_announced_as_expired_and_only_the_enabled_classes_are()
    {
        var clock = new ManualClock();
        await using var node = await TestNode.StartAsync(o => o.NotifyKeyspaceEvents = "KEx", clock);
        await using var subscriber = await node.ConnectAsync();
        await using var client = await node.ConnectAsync();
        await SubscribeAsync(subscriber, "__keyspace@0__:lazy", "__keyevent@0__:expired", "__keyevent@0__:set");

        (await client.SendAsync("SET", "lazy", "1", "PX", "100")).AssertOk();  // no $ class: no set message
        (await client.SendAsync("SET", "active", "1", "PX", "100")).AssertOk();
        clock.Advance(TimeSpan.FromSeconds(2));
        // whichever removes them first, lazy expiry on the read or the active cycle the clock ran, announces each once
        Assert.True((await client.SendAsync("GET", "lazy")).IsNull);
        var seen = new List<RespValue>();
        for (int i = 0; i < 3; i++) seen.Add(await subscriber.ReadAsync());
        Assert.Contains(Message("__keyevent@0__:expired", "active"), seen);
        int keyspace = seen.IndexOf(Message("__keyspace@0__:lazy", "expired"));
        Assert.True(keyspace >= 0, string.Join(", ", seen));
        // the active cycle of another shard may publish between a key's two messages, but never reorders them
        Assert.True(seen.IndexOf(Message("__keyevent@0__:expired", "lazy")) > keyspace, string.Join(", ", seen));
    }

    [Fact]
    public async Task A_key_removed_for_maxmemory_is_announced_as_evicted()
    {
        await using var node = await TestNode.StartAsync(o =>
        {
            o.MaxMemory = "1mb";
            o.Shards = 16;
            o.NotifyKeyspaceEvents = "Ee";
        });
        await using var subscriber = await node.ConnectAsync();
        await using var client = await node.ConnectAsync();
        await SubscribeAsync(subscriber, "__keyevent@0__:evicted");
        string value = new('v', 8 * 1024);
        for (int i = 0; i < 400; i++) (await client.SendAsync("SET", "key:" + i, value)).AssertOk();
        var message = await subscriber.ReadAsync();
        Assert.Equal("__keyevent@0__:evicted", message.Items![1].Text());
        Assert.StartsWith("key:", message.Items[2].Text());
    }

    [Fact]
    public async Task A_glob_pattern_subscriber_gets_keyspace_messages_of_matching_keys_over_resp3()
    {
        await using var node = await TestNode.StartAsync(o => o.NotifyKeyspaceEvents = "K$");
        await using var subscriber = await node.ConnectAsync();
        await using var client = await node.ConnectAsync();
        Assert.False((await subscriber.SendAsync("HELLO", "3")).IsError);
        Assert.Equal(RespValue.Push([.. Confirmation("psubscribe", "__keyspace@0__:user:*", 1).Items!]), await subscriber.SendAsync("PSUBSCRIBE", "__keyspace@0__:user:*"));
        (await client.SendAsync("SET", "user:1", "a")).AssertOk();
        (await client.SendAsync("SET", "order:1", "b")).AssertOk();
        (await client.SendAsync("SET", "user:2", "c")).AssertOk();
        Assert.Equal(RespValue.Push([.. PMessage("__keyspace@0__:user:*", "__keyspace@0__:user:1", "set").Items!]), await subscriber.ReadAsync());
        Assert.Equal(RespValue.Push([.. PMessage("__keyspace@0__:user:*", "__keyspace@0__:user:2", "set").Items!]), await subscriber.ReadAsync());
    }

    [Fact]
    public async Task The_setting_is_validated_at_startup()
    {
        var error = Assert.Throws<InvalidOperationException>(() => NodeServer.LoadOptions(["--notify-keyspace-events", "KQ"]).Validate());
        Assert.Contains("NotifyKeyspaceEvents", error.Message);
    }
}
