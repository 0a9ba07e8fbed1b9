using System.Diagnostics;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>
/// SUBSCRIBE / UNSUBSCRIBE / PSUBSCRIBE / PUNSUBSCRIBE / PUBLISH / PUBSUB: Redis's reply shapes (checked byte for byte
/// against redis-server 7), the RESP2 subscribed context, RESP3 pushes, and what CLIENT LIST and INFO show.
/// </summary>
public sealed class PubSubTests
{
    internal const string OnlySubscriptionCommands = "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";

    internal static RespValue Message(string channel, string message) =>
        RespValue.Array(RespValue.BulkString("message"), RespValue.BulkString(channel), RespValue.BulkString(message));

    internal static RespValue PMessage(string pattern, string channel, string message) =>
        RespValue.Array(RespValue.BulkString("pmessage"), RespValue.BulkString(pattern), RespValue.BulkString(channel), RespValue.BulkString(message));

    internal static RespValue Confirmation(string kind, string? name, long count) =>
        RespValue.Array(RespValue.BulkString(kind), name is null ? RespValue.Null : RespValue.BulkString(name), RespValue.FromInteger(count));

    private static RespValue Push(RespValue array) => RespValue.Push([.. array.Items!]);

    [Fact]
    public async Task Subscribers_receive_what_another_connection_publishes()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await using var publisher = await node.ConnectAsync();

        Assert.Equal(Confirmation("subscribe", "news", 1), await subscriber.SendAsync("SUBSCRIBE", "news"));
        Assert.Equal(1, (await publisher.SendAsync("PUBLISH", "news", "hello")).Int());
        Assert.Equal(Message("news", "hello"), await subscriber.ReadAsync());
        Assert.Equal(0, (await publisher.SendAsync("PUBLISH", "sports", "ignored")).Int());

        // binary safe, empty channel and message included
        byte[] payload = [0, 13, 10, (byte)'*', 255];
        Assert.Equal(1, (await publisher.SendBytesAsync("PUBLISH"u8.ToArray(), "news"u8.ToArray(), payload)).Int());
        Assert.Equal(RespValue.Array(RespValue.BulkString("message"), RespValue.BulkString("news"), RespValue.BulkString(payload)), await subscriber.ReadAsync());

        await subscriber.SendRawAsync(RespRequestEncoder.Encode("SUBSCRIBE", "a", "", "a"));
        Assert.Equal(Confirmation("subscribe", "a", 2), await subscriber.ReadAsync());
        Assert.Equal(Confirmation("subscribe", "", 3), await subscriber.ReadAsync());
        Assert.Equal(Confirmation("subscribe", "a", 3), await subscriber.ReadAsync()); // already subscribed: the count stays
        Assert.Equal(1, (await publisher.SendAsync("PUBLISH", "", "")).Int());
        Assert.Equal(Message("", ""), await subscriber.ReadAsync());
    }

    [Fact]
    public async Task Publish_counts_the_receivers_on_this_node()
    {
        await using var node = await TestNode.StartAsync();
        await using var a = await node.ConnectAsync();
        await using var b = await node.ConnectAsync();
        await using var c = await node.ConnectAsync();
        await using var publisher = await node.ConnectAsync();
        await a.SendAsync("SUBSCRIBE", "orders");
        await b.SendAsync("SUBSCRIBE", "orders");
        await c.SendAsync("SUBSCRIBE", "orders");
        Assert.Equal(Confirmation("psubscribe", "ord*", 2), await c.SendAsync("PSUBSCRIBE", "ord*"));

        // c listens twice (channel and pattern) and gets the message twice, as from Redis
        Assert.Equal(4, (await publisher.SendAsync("PUBLISH", "orders", "o1")).Int());
        Assert.Equal(Message("orders", "o1"), await a.ReadAsync());
        Assert.Equal(Message("orders", "o1"), await b.ReadAsync());
        Assert.Equal(Message("orders", "o1"), await c.ReadAsync());
        Assert.Equal(PMessage("ord*", "orders", "o1"), await c.ReadAsync());
        Assert.Equal(1, (await publisher.SendAsync("PUBLISH", "ordinal", "o2")).Int());
        Assert.Equal(PMessage("ord*", "ordinal", "o2"), await c.ReadAsync());
    }

    [Fact]
    public async Task Patterns_match_as_redis_globs_and_deliver_pmessage()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await using var publisher = await node.ConnectAsync();
        string[] patterns = ["news.*", "h?llo", "[a-c]x", "[^a-c]y", "lit\\*", "[0-9]*"];
        await subscriber.SendRawAsync(RespRequestEncoder.Encode(["PSUBSCRIBE", .. patterns]));
        for (int i = 0; i < patterns.Length; i++) Assert.Equal(Confirmation("psubscribe", patterns[i], i + 1), await subscriber.ReadAsync());

        var expected = new (string Channel, string? Pattern)[]
        {
            ("news.tech", "news.*"), ("news", null), ("hello", "h?llo"), ("hallo", "h?llo"), ("hllo", null),
            ("bx", "[a-c]x"), ("dx", null), ("dy", "[^a-c]y"), ("ay", null), ("lit*", "lit\\*"), ("lit!", null), ("7up", "[0-9]*"),
        };
        foreach (var (channel, pattern) in expected)
        {
            Assert.Equal(pattern is null ? 0 : 1, (await publisher.SendAsync("PUBLISH", channel, "m:" + channel)).Int());
            if (pattern is not null) Assert.Equal(PMessage(pattern, channel, "m:" + channel), await subscriber.ReadAsync());
        }
    }

    [Fact]
    public async Task Unsubscribe_without_arguments_leaves_every_channel()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        // never subscribed: one confirmation with a null name
        Assert.Equal(Confirmation("unsubscribe", null, 0), await client.SendAsync("UNSUBSCRIBE"));
        Assert.Equal(Confirmation("punsubscribe", null, 0), await client.SendAsync("PUNSUBSCRIBE"));
        await client.SendRawAsync(RespRequestEncoder.Encode("UNSUBSCRIBE", "x", "y"));
        Assert.Equal(Confirmation("unsubscribe", "x", 0), await client.ReadAsync());
        Assert.Equal(Confirmation("unsubscribe", "y", 0), await client.ReadAsync());

        await client.SendRawAsync(RespRequestEncoder.Encode("SUBSCRIBE", "a", "b"));
        await client.ReadAsync();
        await client.ReadAsync();
        await client.SendAsync("PSUBSCRIBE", "p*");
        await client.SendRawAsync(RespRequestEncoder.Encode("UNSUBSCRIBE"));
        var first = await client.ReadAsync();
        var second = await client.ReadAsync();
        // one confirmation per channel, counting down (the pattern remains)
        Assert.Equal(["a", "b"], new[] { first.Items![1].Text(), second.Items![1].Text() }.Order());
        Assert.Equal(Confirmation("unsubscribe", first.Items![1].Text(), 2), first);
        Assert.Equal(Confirmation("unsubscribe", second.Items![1].Text(), 1), second);
        Assert.Equal(Confirmation("unsubscribe", null, 1), await client.SendAsync("UNSUBSCRIBE"));

        await client.SendRawAsync(RespRequestEncoder.Encode("PUNSUBSCRIBE", "q*", "p*"));
        Assert.Equal(Confirmation("punsubscribe", "q*", 1), await client.ReadAsync());
        Assert.Equal(Confirmation("punsubscribe", "p*", 0), await client.ReadAsync());
        // out of the subscribed context again
        Assert.Equal(RespValue.Null, await client.SendAsync("GET", "k"));
        Assert.Equal(RespValue.SimpleString("PONG"), await client.SendAsync("PING"));

        await using var check = await node.ConnectAsync();
        Assert.Equal(0, (await check.SendAsync("PUBLISH", "a", "x")).Int());
        Assert.Equal(0, (await check.SendAsync("PUBSUB", "NUMPAT")).Int());
    }

    [Fact]
    public async Task Resp2_subscribed_context_allows_only_the_subscription_commands()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("SUBSCRIBE", "ch");

        (await client.SendAsync("GET", "k")).AssertError($"ERR Can't execute 'get': {OnlySubscriptionCommands}");
        (await client.SendAsync("PUBLISH", "ch", "x")).AssertError($"ERR Can't execute 'publish': {OnlySubscriptionCommands}");
        (await client.SendAsync("MULTI")).AssertError($"ERR Can't execute 'multi': {OnlySubscriptionCommands}");
        (await client.SendAsync("HELLO", "3")).AssertError($"ERR Can't execute 'hello': {OnlySubscriptionCommands}");
        (await client.SendAsync("CLIENT", "LIST")).AssertError($"ERR Can't execute 'client|list': {OnlySubscriptionCommands}");
        (await client.SendAsync("config", "get", "x")).AssertError($"ERR Can't execute 'config|get': {OnlySubscriptionCommands}");
        // what fails before the context check still fails as it would elsewhere
        (await client.SendAsync("CLIENT", "FOO")).AssertError("ERR unknown subcommand 'FOO'. Try CLIENT HELP.");
        (await client.SendAsync("GET")).AssertError("ERR wrong number of arguments for 'get' command");
        (await client.SendAsync("NOPE")).AssertErrorStartsWith("ERR unknown command 'NOPE'");

        // PING answers as a message-shaped array, so a RESP2 subscriber can tell it from a reply
        Assert.Equal(RespValue.Array(RespValue.BulkString("pong"), RespValue.BulkString("")), await client.SendAsync("PING"));
        Assert.Equal(RespValue.Array(RespValue.BulkString("pong"), RespValue.BulkString("hi")), await client.SendAsync("PING", "hi"));
        (await client.SendAsync("PING", "a", "b")).AssertError("ERR wrong number of arguments for 'ping' command");

        Assert.Equal(RespValue.SimpleString("RESET"), await client.SendAsync("RESET"));
        Assert.Equal(RespValue.SimpleString("PONG"), await client.SendAsync("PING"));
        Assert.Equal(RespValue.Null, await client.SendAsync("GET", "k"));
        await using var check = await node.ConnectAsync();
        Assert.Equal(0, (await check.SendAsync("PUBLISH", "ch", "x")).Int());

        await client.SendAsync("PSUBSCRIBE", "p*");
        (await client.SendAsync("QUIT")).AssertOk();
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Subscribe_inside_multi_is_queued_and_exec_enters_the_subscribed_context()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("MULTI")).AssertOk();
        Assert.Equal("QUEUED", (await client.SendAsync("SUBSCRIBE", "a")).Text());
        Assert.Equal("QUEUED", (await client.SendAsync("PING")).Text());
        Assert.Equal(
            RespValue.Array(Confirmation("subscribe", "a", 1), RespValue.Array(RespValue.BulkString("pong"), RespValue.BulkString(""))),
            await client.SendAsync("EXEC"));
        (await client.SendAsync("GET", "k")).AssertError($"ERR Can't execute 'get': {OnlySubscriptionCommands}");
    }

    [Fact]
    public async Task Resp3_subscribers_get_push_frames_and_may_run_any_command()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await using var publisher = await node.ConnectAsync();
        await subscriber.SendAsync("HELLO", "3");
        Assert.Equal(Push(Confirmation("subscribe", "ch", 1)), await subscriber.SendAsync("SUBSCRIBE", "ch"));
        (await subscriber.SendAsync("SET", "k", "v")).AssertOk();
        Assert.Equal("v", (await subscriber.SendAsync("GET", "k")).Text());
        Assert.Equal(RespValue.SimpleString("PONG"), await subscriber.SendAsync("PING"));

        Assert.Equal(1, (await publisher.SendAsync("PUBLISH", "ch", "hi")).Int());
        Assert.Equal(Push(Message("ch", "hi")), await subscriber.ReadAsync());

        // publishing to itself: the message comes ahead of the count, as from Redis
        Assert.Equal(Push(Confirmation("psubscribe", "c*", 2)), await subscriber.SendAsync("PSUBSCRIBE", "c*"));
        await subscriber.SendRawAsync(RespRequestEncoder.Encode("PUBLISH", "ch", "self"));
        Assert.Equal(Push(Message("ch", "self")), await subscriber.ReadAsync());
        Assert.Equal(Push(PMessage("c*", "ch", "self")), await subscriber.ReadAsync());
        Assert.Equal(2, (await subscriber.ReadAsync()).Int());

        // back to RESP2 while subscribed: messages become arrays and the subscribed context applies
        await subscriber.SendAsync("HELLO", "2");
        Assert.Equal(2, (await publisher.SendAsync("PUBLISH", "ch", "two")).Int());
        Assert.Equal(Message("ch", "two"), await subscriber.ReadAsync());
        Assert.Equal(PMessage("c*", "ch", "two"), await subscriber.ReadAsync());
        (await subscriber.SendAsync("GET", "k")).AssertError($"ERR Can't execute 'get': {OnlySubscriptionCommands}");
        await subscriber.SendAsync("RESET");
        await subscriber.SendAsync("HELLO", "3");
        Assert.Equal(Push(Confirmation("unsubscribe", null, 0)), await subscriber.SendAsync("UNSUBSCRIBE"));
    }

    [Fact]
    public async Task Pubsub_channels_numsub_and_numpat_describe_this_node()
    {
        await using var node = await TestNode.StartAsync();
        await using var a = await node.ConnectAsync();
        await using var b = await node.ConnectAsync();
        await using var client = await node.ConnectAsync();
        await a.SendRawAsync(RespRequestEncoder.Encode("SUBSCRIBE", "news.tech", "news.art", "weather"));
        for (int i = 0; i < 3; i++) await a.ReadAsync();
        await b.SendAsync("SUBSCRIBE", "news.tech");
        await a.SendAsync("PSUBSCRIBE", "news.*");
        await b.SendAsync("PSUBSCRIBE", "news.*");
        await b.SendAsync("PSUBSCRIBE", "w*");

        Assert.Equal(["news.art", "news.tech", "weather"], Names(await client.SendAsync("PUBSUB", "CHANNELS")));
        Assert.Equal(["news.art", "news.tech"], Names(await client.SendAsync("PUBSUB", "CHANNELS", "news.*")));
        Assert.Empty(Names(await client.SendAsync("PUBSUB", "channels", "x*")));
        Assert.Equal(
            RespValue.Array(
                RespValue.BulkString("news.tech"), RespValue.FromInteger(2), RespValue.BulkString("weather"), RespValue.FromInteger(1),
                RespValue.BulkString("nobody"), RespValue.FromInteger(0), RespValue.BulkString("news.tech"), RespValue.FromInteger(2)),
            await client.SendAsync("PUBSUB", "NUMSUB", "news.tech", "weather", "nobody", "news.tech"));
        Assert.Equal(RespValue.Array(), await client.SendAsync("PUBSUB", "NUMSUB"));
        Assert.Equal(2, (await client.SendAsync("PUBSUB", "NUMPAT")).Int()); // distinct patterns
        Assert.Equal(RespValue.Array(), await client.SendAsync("PUBSUB", "SHARDCHANNELS"));
        Assert.Equal(RespValue.Array(RespValue.BulkString("x"), RespValue.FromInteger(0)), await client.SendAsync("PUBSUB", "SHARDNUMSUB", "x"));

        // RESP3 too answers NUMSUB with a flat array, as Redis does
        await client.SendAsync("HELLO", "3");
        Assert.Equal(RespValue.Array(RespValue.BulkString("weather"), RespValue.FromInteger(1)), await client.SendAsync("PUBSUB", "NUMSUB", "weather"));

        (await client.SendAsync("PUBSUB", "CHANNELS", "a", "b")).AssertError("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.");
        (await client.SendAsync("PUBSUB", "NUMPAT", "x")).AssertError("ERR wrong number of arguments for 'pubsub|numpat' command");
        (await client.SendAsync("PUBSUB", "foo")).AssertError("ERR unknown subcommand 'foo'. Try PUBSUB HELP.");
        (await client.SendAsync("PUBSUB")).AssertError("ERR wrong number of arguments for 'pubsub' command");
        var help = await client.SendAsync("PUBSUB", "HELP");
        Assert.Equal("PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", help.Items![0].Text());
        Assert.Contains(help.Items!, line => line.Text() == "NUMSUB [<channel> ...]");

        static List<string> Names(RespValue reply) => [.. reply.Items!.Select(i => i.Text()).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Wrong_arity_gets_redis_errors()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("SUBSCRIBE")).AssertError("ERR wrong number of arguments for 'subscribe' command");
        (await client.SendAsync("PSUBSCRIBE")).AssertError("ERR wrong number of arguments for 'psubscribe' command");
        (await client.SendAsync("PUBLISH", "ch")).AssertError("ERR wrong number of arguments for 'publish' command");
        (await client.SendAsync("PUBLISH", "ch", "a", "b")).AssertError("ERR wrong number of arguments for 'publish' command");
        // the errors leave the connection out of the subscribed context
        Assert.Equal(RespValue.Null, await client.SendAsync("GET", "k"));
    }

    [Fact]
    public async Task Commands_have_no_keys_and_are_described_by_command()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        // no key positions: in cluster mode nothing routes or redirects them
        (await client.SendAsync("COMMAND", "GETKEYS", "PUBLISH", "ch", "m")).AssertError("ERR The command has no key arguments");
        var info = await client.SendAsync("COMMAND", "INFO", "subscribe", "publish");
        var subscribe = info.Items![0].Items!;
        Assert.Equal("subscribe", subscribe[0].Text());
        Assert.Equal(-2, subscribe[1].Int());
        Assert.Contains(subscribe[2].Items!, f => f.Text() == "pubsub");
        Assert.Equal(0, subscribe[3].Int());
        Assert.Equal(["@pubsub", "@slow"], subscribe[6].Items!.Select(c => c.Text()));
        var publish = info.Items![1].Items!;
        Assert.Equal(3, publish[1].Int());
        Assert.Equal(["@pubsub", "@fast"], publish[6].Items!.Select(c => c.Text()));
        var docs = await client.SendAsync("COMMAND", "DOCS", "pubsub");
        Assert.Equal("pubsub", docs.Items![0].Text());
        var fields = docs.Items![1].Items!;
        Assert.Contains(fields, f => f.Text() == "subcommands");
        var names = await client.SendAsync("COMMAND", "LIST", "FILTERBY", "ACLCAT", "pubsub");
        Assert.Contains(names.Items!, n => n.Text() == "pubsub|numsub");
        Assert.Contains(names.Items!, n => n.Text() == "punsubscribe");
    }

    [Fact]
    public async Task Client_list_and_info_show_subscriptions()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await using var client = await node.ConnectAsync();
        await subscriber.SendRawAsync(RespRequestEncoder.Encode("SUBSCRIBE", "a", "b"));
        await subscriber.ReadAsync();
        await subscriber.ReadAsync();
        await subscriber.SendAsync("PSUBSCRIBE", "p*");

        var pubsub = (await client.SendAsync("CLIENT", "LIST", "TYPE", "pubsub")).Text();
        Assert.Single(pubsub.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(" flags=P db=0 sub=2 psub=1 ssub=0 ", pubsub);
        Assert.Contains(" cmd=psubscribe ", pubsub);
        var normal = (await client.SendAsync("CLIENT", "LIST", "TYPE", "normal")).Text();
        Assert.Single(normal.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(" flags=N db=0 sub=0 psub=0 ", normal);

        var info = (await client.SendAsync("INFO")).Text();
        Assert.Contains("\r\npubsub_clients:1\r\n", info);
        Assert.Contains("\r\npubsub_channels:2\r\n", info);
        Assert.Contains("\r\npubsub_patterns:1\r\n", info);

        Assert.Equal(1, (await client.SendAsync("CLIENT", "KILL", "TYPE", "pubsub")).Int());
        Assert.True(await subscriber.IsClosedByServerAsync());
        await Poll.UntilAsync(async () => (await client.SendAsync("INFO", "stats")).Text().Contains("\r\npubsub_channels:0\r\n"), "the killed subscriber's channels are gone");
        Assert.Contains("\r\npubsub_patterns:0\r\n", (await client.SendAsync("INFO", "stats")).Text());
    }

    [Fact]
    public async Task A_closed_subscriber_is_removed_from_every_channel_and_pattern()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var subscriber = await node.ConnectAsync();
        await subscriber.SendRawAsync(RespRequestEncoder.Encode("SUBSCRIBE", "one", "two"));
        await subscriber.ReadAsync();
        await subscriber.ReadAsync();
        await subscriber.SendAsync("PSUBSCRIBE", "t*");
        Assert.Equal(2, (await client.SendAsync("PUBLISH", "two", "x")).Int());

        await subscriber.DisposeAsync();
        await Poll.UntilAsync(async () => (await client.SendAsync("PUBSUB", "NUMSUB", "one", "two")).Items!.Where((_, i) => i % 2 == 1).All(n => n.Int() == 0),
            "PUBSUB NUMSUB drops the closed subscriber");
        Assert.Equal(0, (await client.SendAsync("PUBSUB", "NUMPAT")).Int());
        Assert.Equal(RespValue.Array(), await client.SendAsync("PUBSUB", "CHANNELS"));
        Assert.Equal(0, (await client.SendAsync("PUBLISH", "two", "x")).Int());
    }

    [Fact]
    public async Task Subscribers_are_not_closed_by_the_idle_timeout()
    {
        var clock = new ManualClock();
        await using var node = await TestNode.StartAsync(o => o.Timeout = 5, clock);
        await using var subscriber = await node.ConnectAsync();
        await using var idle = await node.ConnectAsync();
        await subscriber.SendAsync("SUBSCRIBE", "ch");
        await idle.SendAsync("PING");
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.True(await idle.IsClosedByServerAsync());
        await using var publisher = await node.ConnectAsync();
        Assert.Equal(1, (await publisher.SendAsync("PUBLISH", "ch", "still here")).Int());
        Assert.Equal(Message("ch", "still here"), await subscriber.ReadAsync());
    }

    [Fact]
    public async Task The_pubsub_output_limit_is_a_startup_setting_and_a_config_parameter()
    {
        var options = NodeServer.LoadOptions(["--client-output-buffer-limit", "pubsub 1mb 512kb 5"]);
        Assert.Equal("pubsub 1mb 512kb 5", options.ClientOutputBufferLimit);
        var error = Assert.Throws<InvalidOperationException>(() => NodeServer.LoadOptions(["--client-output-buffer-limit", "pubsub 1mb"]));
        Assert.Equal("Invalid AkkaCache:ClientOutputBufferLimit 'pubsub 1mb': Wrong number of arguments in buffer limit configuration.", error.Message);

        await using var node = await TestNode.StartAsync(o => o.ClientOutputBufferLimit = "pubsub 1mb 512kb 5");
        await using var client = await node.ConnectAsync();
        var setting = await client.SendAsync("CONFIG", "GET", "client-output-buffer-limit");
        Assert.Equal("normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 5", setting.Items![1].Text());
        (await client.SendAsync("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 0 0")).AssertOk();
        Assert.Equal(new PubSub.OutputBufferLimit(0, 0, 0), node.Node.PubSub.Limit);
    }

    [Fact]
    public async Task Redis_cli_publishes_and_subscribes()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await using var client = await node.ConnectAsync();
        await subscriber.SendAsync("SUBSCRIBE", "cli:ch");
        var publish = await RedisCli.RunAsync(node.Port, "PUBLISH", "cli:ch", "from redis-cli");
        Assert.Equal(0, publish.ExitCode);
        Assert.Equal("1", publish.Output.Trim());
        Assert.Equal(Message("cli:ch", "from redis-cli"), await subscriber.ReadAsync());
        var numsub = await RedisCli.RunAsync(node.Port, "--no-raw", "PUBSUB", "NUMSUB", "cli:ch");
        Assert.Equal("1) \"cli:ch\"\n2) (integer) 1", numsub.Output.Trim());

        // redis-cli as the subscriber: it prints each message as it comes
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in new[] { "-p", node.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "SUBSCRIBE", "cli:out" }) start.ArgumentList.Add(arg);
        using var cli = Process.Start(start)!;
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var lines = new List<string>();
            async Task ReadLines(int count)
            {
                while (lines.Count < count) lines.Add(await cli.StandardOutput.ReadLineAsync(deadline.Token) ?? throw new EndOfStreamException("redis-cli exited"));
            }
            await ReadLines(3);
            Assert.Equal(["subscribe", "cli:out", "1"], lines);
            Assert.Equal(1, (await client.SendAsync("PUBLISH", "cli:out", "hello cli")).Int());
            await ReadLines(6);
            Assert.Equal(["message", "cli:out", "hello cli"], lines[3..]);
        }
        finally
        {
            cli.Kill();
            await cli.WaitForExitAsync();
        }
    }
}
