using System.Text;
using System.Text.RegularExpressions;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;
using static AkkaCache.Server.Tests.PubSubTests;

namespace AkkaCache.Server.Tests;

/// <summary>
/// Delivery across sessions: many publishers into one subscriber (every message once, in each publisher's order, frames
/// intact, and never inside the subscriber's own replies), no message after leaving a channel, and the output limits
/// that cut off a subscriber which stops reading while the publisher and the node go on.
/// </summary>
public sealed partial class PubSubDeliveryTests
{
    private const int Publishers = 4;
    private const int PerPublisher = 400;
    private const int Pipeline = 20;

    /// <summary>"p{publisher}:{seq}:" and a padding whose length and letter follow from both; every fifth is 9000 bytes, past the writer's single-span size.</summary>
    private static string Payload(int publisher, int seq) =>
        $"p{publisher}:{seq}:" + new string((char)('a' + (publisher + seq) % 26), seq % 5 == 0 ? 9000 : seq % 7);

    private static async Task PublishAllAsync(TestNode node, string channel, Func<long, bool> checkReceivers)
    {
        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(p => Task.Run(async () =>
        {
            await using var publisher = await node.ConnectAsync();
            for (int seq = 0; seq < PerPublisher; seq += Pipeline)
            {
                var batch = new List<byte>();
                for (int i = seq; i < seq + Pipeline; i++) batch.AddRange(RespRequestEncoder.Encode("PUBLISH", channel, Payload(p, i)));
                await publisher.SendRawAsync([.. batch]);
                for (int i = 0; i < Pipeline; i++)
                {
                    long receivers = (await publisher.ReadAsync()).Int();
                    Assert.True(checkReceivers(receivers), $"PUBLISH answered {receivers}");
                }
            }
        })));
    }

    /// <summary>Checks one message frame against the next expected sequence number of its publisher.</summary>
    private static void Check(RespValue frame, RespType type, string channel, int[] next)
    {
        Assert.Equal(type, frame.Type);
        Assert.Equal(3, frame.Items!.Count);
        Assert.Equal("message", frame.Items[0].Text());
        Assert.Equal(channel, frame.Items[1].Text());
        string payload = frame.Items[2].Text();
        var parts = payload.Split(':', 3);
        int publisher = int.Parse(parts[0][1..], System.Globalization.CultureInfo.InvariantCulture);
        int seq = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(next[publisher], seq);
        Assert.Equal(Payload(publisher, seq), payload);
        next[publisher]++;
    }

    [Fact]
    public async Task Concurrent_publishers_deliver_every_message_once_in_publisher_order()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        Assert.Equal(Confirmation("subscribe", "fan", 1), await subscriber.SendAsync("SUBSCRIBE", "fan"));

        var next = new int[Publishers];
        var reading = Task.Run(async () =>
        {
            for (int n = 0; n < Publishers * PerPublisher; n++) Check(await subscriber.ReadAsync(), RespType.Array, "fan", next);
        });
        await PublishAllAsync(node, "fan", receivers => receivers == 1);
        await reading;
        Assert.All(next, count => Assert.Equal(PerPublisher, count));
        // nothing more is pending: the next frame is PING's answer
        Assert.Equal(RespValue.Array(RespValue.BulkString("pong"), RespValue.BulkString("")), await subscriber.SendAsync("PING"));
    }

    [Fact]
    public async Task Resp3_pushes_never_land_inside_the_subscribers_own_replies()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await subscriber.SendAsync("HELLO", "3");
        await subscriber.SendAsync("SUBSCRIBE", "fan");

        var next = new int[Publishers];
        int pushes = 0;
        var publishing = PublishAllAsync(node, "fan", receivers => receivers == 1);
        const int Echoes = 300;
        for (int k = 0; k < Echoes; k += 10)
        {
            var batch = new List<byte>();
            for (int i = k; i < k + 10; i++) batch.AddRange(RespRequestEncoder.Encode("ECHO", $"echo-{i}-" + new string('e', i * 7)));
            await subscriber.SendRawAsync([.. batch]);
            int replies = 0;
            while (replies < 10)
            {
                var frame = await subscriber.ReadAsync();
                if (frame.Type == RespType.Push)
                {
                    Check(frame, RespType.Push, "fan", next);
                    pushes++;
                    continue;
                }
                Assert.Equal(RespValue.BulkString($"echo-{k + replies}-" + new string('e', (k + replies) * 7)), frame);
                replies++;
            }
        }
        await publishing;
        for (; pushes < Publishers * PerPublisher; pushes++) Check(await subscriber.ReadAsync(), RespType.Push, "fan", next);
        Assert.All(next, count => Assert.Equal(PerPublisher, count));
    }

    [Fact]
    public async Task No_message_follows_the_confirmation_of_leaving_the_channel()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var publishing = Task.Run(async () =>
        {
            await using var publisher = await node.ConnectAsync();
            var batch = Enumerable.Range(0, 10).SelectMany(_ => RespRequestEncoder.Encode("PUBLISH", "race", "m")).ToArray();
            while (!stop.IsCancellationRequested)
            {
                await publisher.SendRawAsync(batch);
                for (int i = 0; i < 10; i++) (await publisher.ReadAsync()).Int();
            }
        });
        try
        {
            for (int round = 0; round < 50; round++)
            {
                Assert.Equal(Confirmation("subscribe", "race", 1), await subscriber.SendAsync("SUBSCRIBE", "race"));
                // at least one message first, so the publisher's traffic overlaps the unsubscription
                Assert.Equal(Message("race", "m"), await subscriber.ReadAsync());
                await subscriber.SendRawAsync(RespRequestEncoder.Encode("UNSUBSCRIBE", "race"));
                RespValue frame;
                while ((frame = await subscriber.ReadAsync()).Equals(Message("race", "m")))
                {
                }
                Assert.Equal(Confirmation("unsubscribe", "race", 0), frame);
                // a RESP2 client is in normal mode again: a late message would be taken for this reply
                Assert.Equal(RespValue.SimpleString("PONG"), await subscriber.SendAsync("PING"));
            }
        }
        finally
        {
            stop.Cancel();
            await publishing;
        }
    }

    [Fact]
    public async Task A_subscriber_that_stops_reading_is_cut_off_at_the_hard_limit_and_the_node_goes_on()
    {
        await using var node = await TestNode.StartAsync();
        await using var publisher = await node.ConnectAsync();
        (await publisher.SendAsync("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0")).AssertOk();
        await using var stalled = await RespTestClient.ConnectAsync(node.Port, receiveBufferSize: 16 * 1024);
        await stalled.SendAsync("SUBSCRIBE", "firehose");
        await using var healthy = await node.ConnectAsync();
        await healthy.SendAsync("SUBSCRIBE", "firehose");

        // the healthy subscriber reads everything, and the publisher never gets more than a batch ahead of it, so only
        // the stalled one (which never reads again) can reach the limit however slowly this machine runs the reader
        var message = new string('m', 64 * 1024);
        const int Batch = 4;
        using var healthyReceived = new SemaphoreSlim(0);
        var reading = Task.Run(async () =>
        {
            while (true)
            {
                var frame = await healthy.ReadAsync();
                if (frame.Equals(Message("firehose", "last"))) return;
                Assert.Equal(Message("firehose", message), frame);
                healthyReceived.Release();
            }
        });

        var batch = Enumerable.Range(0, Batch).SelectMany(_ => RespRequestEncoder.Encode("PUBLISH", "firehose", message)).ToArray();
        int published = 0;
        bool cutOff = false;
        // socket buffers take a few megabytes before the outbox grows: 1000 batches (256 MB) are far more than enough
        for (int round = 0; round < 1000 && !cutOff; round++)
        {
            await publisher.SendRawAsync(batch);
            for (int i = 0; i < Batch; i++)
            {
                long receivers = (await publisher.ReadAsync()).Int();
                Assert.InRange(receivers, 1, 2);
                cutOff |= receivers == 1;
                published++;
            }
            for (int i = 0; i < Batch; i++) Assert.True(await healthyReceived.WaitAsync(TimeSpan.FromSeconds(30)), "the healthy subscriber got every message");
        }
        Assert.True(cutOff, $"the stalled subscriber was still served after {published} messages of 64 KB");
        Assert.True(await stalled.IsClosedByServerAsync());
        await Poll.UntilAsync(async () => (await publisher.SendAsync("PUBSUB", "NUMSUB", "firehose")).Items![1].Int() == 1,
            "the stalled subscriber leaves the channel");

        // the publisher, the other subscriber and the node are unaffected
        Assert.Equal(1, (await publisher.SendAsync("PUBLISH", "firehose", "last")).Int());
        await reading;
        (await publisher.SendAsync("SET", "k", "v")).AssertOk();
        Assert.Equal("v", (await publisher.SendAsync("GET", "k")).Text());
        await using var late = await node.ConnectAsync();
        await late.SendAsync("SUBSCRIBE", "firehose");
        Assert.Equal(2, (await publisher.SendAsync("PUBLISH", "firehose", "again")).Int());
        Assert.Equal(Message("firehose", "again"), await late.ReadAsync());
    }

    [GeneratedRegex(@" omem=(\d+) ")]
    private static partial Regex OutputMemory();

    [Fact]
    public async Task Over_the_soft_limit_for_longer_than_its_seconds_a_subscriber_is_cut_off()
    {
        var clock = new ManualClock();
        await using var node = await TestNode.StartAsync(clock: clock);
        await using var publisher = await node.ConnectAsync();
        (await publisher.SendAsync("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 256kb 10")).AssertOk();
        await using var stalled = await RespTestClient.ConnectAsync(node.Port, receiveBufferSize: 16 * 1024);
        long id = (await stalled.SendAsync("CLIENT", "ID")).Int();
        await stalled.SendAsync("SUBSCRIBE", "slow");

        // while the clock stands still the soft limit's seconds never pass: 160 messages of 64 KB, far past the socket
        // buffers (4 MB at most here), all delivered (no hard limit)
        var message = new string('s', 64 * 1024);
        for (int i = 0; i < 160; i++) Assert.Equal(1, (await publisher.SendAsync("PUBLISH", "slow", message)).Int());
        Assert.Equal(1, (await publisher.SendAsync("PUBSUB", "NUMSUB", "slow")).Items![1].Int());
        var line = (await publisher.SendAsync("CLIENT", "LIST", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture))).Text();
        Assert.True(long.Parse(OutputMemory().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 256 * 1024, line);

        // 11 seconds between two messages that both find it over the soft limit: cut off
        int afterAdvance = 0;
        while ((await publisher.SendAsync("PUBLISH", "slow", message)).Int() == 1)
        {
            Assert.True(++afterAdvance < 100, "the subscriber stayed over the soft limit for minutes and was never cut off");
            clock.Advance(TimeSpan.FromSeconds(11));
        }
        Assert.True(await stalled.IsClosedByServerAsync());
        await Poll.UntilAsync(async () => (await publisher.SendAsync("PUBSUB", "NUMSUB", "slow")).Items![1].Int() == 0, "the cut-off subscriber leaves");
    }

    [Fact]
    public async Task Large_messages_arrive_intact()
    {
        await using var node = await TestNode.StartAsync();
        await using var subscriber = await node.ConnectAsync();
        await using var publisher = await node.ConnectAsync();
        await subscriber.SendAsync("PSUBSCRIBE", "big.*");
        var payload = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 100_000).Select(i => (char)('0' + i % 10))));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1, (await publisher.SendBytesAsync("PUBLISH"u8.ToArray(), Encoding.ASCII.GetBytes($"big.{i}"), payload)).Int());
        }
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(
                RespValue.Array(RespValue.BulkString("pmessage"), RespValue.BulkString("big.*"), RespValue.BulkString($"big.{i}"), RespValue.BulkString(payload)),
                await subscriber.ReadAsync());
        }
    }
}
