using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>CLIENT TRACKING: invalidation pushes for keys a connection read (default mode), by prefix (BCAST), OPTIN, NOLOOP and REDIRECT.</summary>
public sealed class TrackingTests
{
    private static RespValue Invalidate(string key) =>
        RespValue.Push(RespValue.BulkString("invalidate"), RespValue.Array(RespValue.BulkString(key)));

    private static async Task<RespTestClient> TrackingClientAsync(TestNode node, params string[] options)
    {
        var client = await node.ConnectAsync();
        Assert.False((await client.SendAsync("HELLO", "3")).IsError);
        (await client.SendAsync(["CLIENT", "TRACKING", "ON", .. options])).AssertOk();
        return client;
    }

    /// <summary>
    /// The pushes this client has been sent so far. Invalidations are in its outbox before the writer's reply, so
    /// any of them arrive before the second PONG of two round trips (the first may overtake them: messages go out
    /// behind replies at a flush).
    /// </summary>
    private static async Task<List<RespValue>> PendingPushesAsync(RespTestClient client)
    {
        var pushes = new List<RespValue>();
        for (int round = 0; round < 2; round++)
        {
            await client.SendRawAsync(RespRequestEncoder.Encode(["PING"]));
            while (true)
            {
                var value = await client.ReadAsync();
                if (value.Type == RespType.Push) pushes.Add(value);
                else
                {
                    Assert.Equal("PONG", value.AsString());
                    break;
                }
            }
        }
        return pushes;
    }

    [Fact]
    public async Task A_key_read_by_a_tracking_client_is_invalidated_once_when_another_client_writes_it()
    {
        await using var node = await TestNode.StartAsync();
        await using var tracking = await TrackingClientAsync(node);
        await using var writer = await node.ConnectAsync();
        (await writer.SendAsync("SET", "k", "1")).AssertOk();
        Assert.Equal("1", (await tracking.SendAsync("GET", "k")).Text());
        Assert.Equal(0, (await tracking.SendAsync("EXISTS", "other")).Int());

        (await writer.SendAsync("SET", "k", "2")).AssertOk();
        Assert.Equal(Invalidate("k"), await tracking.ReadAsync());
        // forgotten once told: a second write sends nothing until the key is read again
        (await writer.SendAsync("SET", "k", "3")).AssertOk();
        (await writer.SendAsync("SET", "untracked", "x")).AssertOk();
        Assert.Empty(await PendingPushesAsync(tracking));

        Assert.Equal("3", (await tracking.SendAsync("GET", "k")).Text());
        Assert.Equal(1, (await writer.SendAsync("DEL", "k", "other")).Int());
        // "other" was read too (EXISTS): the DEL names it, so it is invalidated even though it did not exist
        Assert.Equal([Invalidate("k"), Invalidate("other")], await PendingPushesAsync(tracking));
    }

    [Fact]
    public async Task Tracking_off_stops_invalidations()
    {
        await using var node = await TestNode.StartAsync();
        await using var tracking = await TrackingClientAsync(node);
        await using var writer = await node.ConnectAsync();
        Assert.True((await tracking.SendAsync("GET", "k")).IsNull);
        Assert.Equal(0, (await tracking.SendAsync("CLIENT", "GETREDIR")).Int());
        (await tracking.SendAsync("CLIENT", "TRACKING", "OFF")).AssertOk();
        Assert.Equal(-1, (await tracking.SendAsync("CLIENT", "GETREDIR")).Int());
        (await writer.SendAsync("SET", "k", "v")).AssertOk();
        Assert.Empty(await PendingPushesAsync(tracking));
    }

    [Fact]
    public async Task Bcast_sends_every_write_of_a_matching_prefix_without_reads()
    {
        await using var node = await TestNode.StartAsync();
        await using var tracking = await TrackingClientAsync(node, "BCAST", "PREFIX", "user:", "PREFIX", "order:");
        await using var writer = await node.ConnectAsync();
        (await writer.SendAsync("SET", "user:1", "a")).AssertOk();
        (await writer.SendAsync("SET", "item:1", "b")).AssertOk();
        (await writer.SendAsync("MSET", "order:7", "c", "user:1", "d")).AssertOk();
        var pushes = await PendingPushesAsync(tracking);
        Assert.Equal([Invalidate("user:1"), Invalidate("order:7"), Invalidate("user:1")], pushes);
        var info = await tracking.SendAsync("CLIENT", "TRACKINGINFO");
        Assert.Contains("bcast", info.Items![1].Items!.Select(i => i.Text()));
        Assert.Equal(2, info.Items![5].Items!.Count);
    }

    [Fact]
    public async Task Noloop_keeps_a_clients_own_writes_from_invalidating_its_keys()
    {
        await using var node = await TestNode.StartAsync();
        await using var tracking = await TrackingClientAsync(node, "NOLOOP");
        await using var writer = await node.ConnectAsync();
        Assert.True((await tracking.SendAsync("GET", "k")).IsNull);
        (await tracking.SendAsync("SET", "k", "mine")).AssertOk();
        Assert.Empty(await PendingPushesAsync(tracking));
        Assert.Equal("mine", (await tracking.SendAsync("GET", "k")).Text());
        (await writer.SendAsync("SET", "k", "theirs")).AssertOk();
        Assert.Equal(Invalidate("k"), await tracking.ReadAsync());
    }

    [Fact]
    public async Task Optin_tracks_only_the_command_after_client_caching_yes()
    {
        await using var node = await TestNode.StartAsync();
        await using var tracking = await TrackingClientAsync(node, "OPTIN");
        await using var writer = await node.ConnectAsync();
        Assert.True((await tracking.SendAsync("GET", "plain")).IsNull);
        (await tracking.SendAsync("CLIENT", "CACHING", "YES")).AssertOk();
        Assert.True((await tracking.SendAsync("GET", "cached")).IsNull);
        Assert.True((await tracking.SendAsync("GET", "after")).IsNull);
        (await writer.SendAsync("MSET", "plain", "1", "cached", "2", "after", "3")).AssertOk();
        Assert.Equal([Invalidate("cached")], await PendingPushesAsync(tracking));
        (await tracking.SendAsync("CLIENT", "CACHING", "NO")).AssertErrorStartsWith("ERR CLIENT CACHING NO is only valid");
    }

    [Fact]
    public async Task Optout_tracks_everything_but_the_command_after_client_caching_no()
    {
        await using var node = await TestNode.StartAsync();
        await using var tracking = await TrackingClientAsync(node, "OPTOUT");
        await using var writer = await node.ConnectAsync();
        (await tracking.SendAsync("CLIENT", "CACHING", "NO")).AssertOk();
        Assert.True((await tracking.SendAsync("GET", "skipped")).IsNull);
        Assert.True((await tracking.SendAsync("GET", "tracked")).IsNull);
        (await writer.SendAsync("MSET", "skipped", "1", "tracked", "2")).AssertOk();
        Assert.Equal([Invalidate("tracked")], await PendingPushesAsync(tracking));
    }

    [Fact]
    public async Task A_resp2_client_gets_invalidations_through_a_redirect_to_a_subscriber_of_the_invalidate_channel()
    {
        await using var node = await TestNode.StartAsync();
        await using var redirectTarget = await node.ConnectAsync();
        await using var tracking = await node.ConnectAsync();
        await using var writer = await node.ConnectAsync();
        long targetId = (await redirectTarget.SendAsync("CLIENT", "ID")).Int();
        Assert.Equal(1, (await redirectTarget.SendAsync("SUBSCRIBE", "__redis__:invalidate")).Items![2].Int());
        (await tracking.SendAsync("CLIENT", "TRACKING", "ON", "REDIRECT", targetId.ToString(System.Globalization.CultureInfo.InvariantCulture))).AssertOk();
        Assert.Equal(targetId, (await tracking.SendAsync("CLIENT", "GETREDIR")).Int());
        Assert.True((await tracking.SendAsync("GET", "k")).IsNull);
        (await writer.SendAsync("SET", "k", "v")).AssertOk();
        Assert.Equal(
            RespValue.Array(RespValue.BulkString("message"), RespValue.BulkString("__redis__:invalidate"), RespValue.Array(RespValue.BulkString("k"))),
            await redirectTarget.ReadAsync());
        // a flush tells every tracking client to drop everything (a null key list), remembered keys or not
        (await writer.SendAsync("FLUSHALL")).AssertOk();
        var flushed = await redirectTarget.ReadAsync();
        Assert.Equal("__redis__:invalidate", flushed.Items![1].Text());
        Assert.True(flushed.Items[2].IsNull);
    }

    [Fact]
    public async Task A_resp3_client_whose_redirect_target_left_is_told_the_redirect_is_broken()
    {
        await using var node = await TestNode.StartAsync();
        var target = await node.ConnectAsync();
        await using var tracking = await node.ConnectAsync();
        await using var writer = await node.ConnectAsync();
        string targetId = (await target.SendAsync("CLIENT", "ID")).Int().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.False((await tracking.SendAsync("HELLO", "3")).IsError);
        (await tracking.SendAsync("CLIENT", "TRACKING", "ON", "REDIRECT", targetId)).AssertOk();
        Assert.True((await tracking.SendAsync("GET", "k")).IsNull);
        await target.DisposeAsync();
        await Poll.UntilAsync(async () => !(await writer.SendAsync("CLIENT", "LIST", "ID", targetId)).Text().Contains("id=" + targetId + " ", StringComparison.Ordinal),
            "the redirect target's connection to close");
        (await writer.SendAsync("SET", "k", "v")).AssertOk();
        Assert.Equal(RespValue.Push(RespValue.BulkString("tracking-redir-broken"), RespValue.FromInteger(long.Parse(targetId, System.Globalization.CultureInfo.InvariantCulture))),
            await tracking.ReadAsync());
    }

    [Fact]
    public async Task Reset_turns_tracking_off()
    {
        await using var node = await TestNode.StartAsync();
        await using var tracking = await TrackingClientAsync(node);
        await using var writer = await node.ConnectAsync();
        Assert.True((await tracking.SendAsync("GET", "k")).IsNull);
        Assert.Equal("RESET", (await tracking.SendAsync("RESET")).AsString());
        Assert.Equal(-1, (await tracking.SendAsync("CLIENT", "GETREDIR")).Int());
        // back in RESP3, where a push could be seen: none comes
        Assert.False((await tracking.SendAsync("HELLO", "3")).IsError);
        (await writer.SendAsync("SET", "k", "v")).AssertOk();
        Assert.Empty(await PendingPushesAsync(tracking));
    }

    [Fact]
    public async Task A_tracked_key_that_expires_is_invalidated()
    {
        var clock = new ManualClock();
        await using var node = await TestNode.StartAsync(configure: null, clock);
        await using var tracking = await TrackingClientAsync(node);
        await using var reader = await node.ConnectAsync();
        (await tracking.SendAsync("SET", "k", "v", "PX", "100")).AssertOk();
        Assert.Equal("v", (await tracking.SendAsync("GET", "k")).Text());
        clock.Advance(TimeSpan.FromSeconds(2));
        // lazy expiry on this read or the active cycle the clock ran: either removes it, and the removal is told
        Assert.True((await reader.SendAsync("GET", "k")).IsNull);
        Assert.Equal(Invalidate("k"), await tracking.ReadAsync());
    }

    [Fact]
    public async Task A_full_tracking_table_forgets_its_oldest_key_with_an_invalidation()
    {
        await using var node = await TestNode.StartAsync();
        await using var tracking = await TrackingClientAsync(node);
        await using var admin = await node.ConnectAsync();
        (await admin.SendAsync("CONFIG", "SET", "tracking-table-max-keys", "2")).AssertOk();
        Assert.Equal("2", (await admin.SendAsync("CONFIG", "GET", "tracking-table-max-keys")).Items![1].Text());
        foreach (var key in new[] { "a", "b", "a", "c" }) Assert.True((await tracking.SendAsync("GET", key)).IsNull);
        Assert.Equal([Invalidate("a")], await PendingPushesAsync(tracking));

        string info = (await admin.SendAsync("INFO")).Text();
        Assert.Contains("tracking_clients:1\r\n", info);
        Assert.Contains("tracking_total_keys:2\r\n", info);
        Assert.Contains("tracking_total_items:2\r\n", info);
        (await tracking.SendAsync("CLIENT", "TRACKING", "OFF")).AssertOk();
        Assert.Contains("tracking_clients:0\r\n", (await admin.SendAsync("INFO", "clients")).Text());
    }

    [Fact]
    public async Task Bad_options_are_refused()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CLIENT", "TRACKING", "ON", "BOGUS")).AssertError("ERR syntax error");
        (await client.SendAsync("CLIENT", "TRACKING", "MAYBE")).AssertError("ERR syntax error");
        (await client.SendAsync("CLIENT", "TRACKING", "ON", "REDIRECT", "999999")).AssertError("ERR The client ID you want redirect to does not exist");
        (await client.SendAsync("CLIENT", "TRACKING", "ON", "PREFIX", "a:")).AssertError("ERR PREFIX option requires BCAST mode to be enabled");
        (await client.SendAsync("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT")).AssertError("ERR You can't use both OPTIN and OPTOUT");
        (await client.SendAsync("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN")).AssertError("ERR OPTIN and OPTOUT are not compatible with BCAST");
        (await client.SendAsync("CLIENT", "CACHING", "YES")).AssertErrorStartsWith("ERR CLIENT CACHING can be called only");
        Assert.Equal(-1, (await client.SendAsync("CLIENT", "GETREDIR")).Int());
        (await client.SendAsync("CLIENT", "TRACKING", "ON")).AssertOk();
        (await client.SendAsync("CLIENT", "TRACKING", "ON", "BCAST")).AssertErrorStartsWith("ERR You can't switch BCAST");
        Assert.Equal("PONG", (await client.SendAsync("PING")).AsString());
    }
}
