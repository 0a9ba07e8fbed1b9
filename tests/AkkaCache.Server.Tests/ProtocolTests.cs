using System.Text;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>Wire-level behaviour: pipelining, inline commands, big values, bad frames, concurrency, redis-cli.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public async Task Pipelined_requests_are_answered_in_order()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var batch = new List<byte>();
        for (int i = 0; i < 1000; i++)
        {
            batch.AddRange(RespRequestEncoder.Encode("SET", $"k{i}", $"v{i}"));
            batch.AddRange(RespRequestEncoder.Encode("GET", $"k{i}"));
            batch.AddRange(RespRequestEncoder.Encode("INCR", "counter"));
        }
        await client.SendRawAsync(batch.ToArray());
        for (int i = 0; i < 1000; i++)
        {
            (await client.ReadAsync()).AssertOk();
            Assert.Equal($"v{i}", (await client.ReadAsync()).Text());
            Assert.Equal(i + 1, (await client.ReadAsync()).Int());
        }
    }

    [Fact]
    public async Task A_pipeline_of_32_MB_of_replies_is_answered_completely_and_in_order()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var value = new string('x', 512 * 1024);
        (await client.SendAsync("SET", "big", value)).AssertOk();
        var batch = new List<byte>();
        for (int i = 0; i < 64; i++) batch.AddRange(RespRequestEncoder.Encode("GET", "big"));
        batch.AddRange(RespRequestEncoder.Encode("PING"));
        await client.SendRawAsync(batch.ToArray());
        for (int i = 0; i < 64; i++) Assert.Equal(value.Length, (await client.ReadAsync()).Bytes!.Length);
        Assert.Equal("PONG", (await client.ReadAsync()).Text());
        Assert.True(node.Node.Clients.All.Single().Commands >= 66);
    }

    [Fact]
    public async Task Inline_commands_work_like_redis()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendRawAsync("SET greeting \"hello world\"\r\nGET greeting\r\n\r\nEXISTS greeting nothing\n");
        (await client.ReadAsync()).AssertOk();
        Assert.Equal("hello world", (await client.ReadAsync()).Text());
        Assert.Equal(1, (await client.ReadAsync()).Int());
    }

    [Fact]
    public async Task A_one_megabyte_value_arriving_in_pieces_round_trips()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var value = new byte[1024 * 1024];
        new Random(7).NextBytes(value);
        var request = RespRequestEncoder.Encode("SET", "big", "");
        // replace the empty value with the big one: *3 $3 SET $3 big $<len> <bytes>
        var header = Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${value.Length}\r\n");
        for (int offset = 0; offset < header.Length; offset += 5)
            await client.SendRawAsync(header[offset..Math.Min(header.Length, offset + 5)]);
        for (int offset = 0; offset < value.Length; offset += 3000)
            await client.SendRawAsync(value[offset..Math.Min(value.Length, offset + 3000)]);
        await client.SendRawAsync("\r\n"u8.ToArray());
        _ = request;
        (await client.ReadAsync()).AssertOk();
        var reply = await client.SendAsync("GET", "big");
        Assert.Equal(value, reply.Bytes);
    }

    [Fact]
    public async Task An_oversize_bulk_gets_an_error_the_connection_closes_and_nothing_is_stored()
    {
        await using var node = await TestNode.StartAsync(o => o.ProtoMaxBulkLen = "64kb");
        await using var client = await node.ConnectAsync();
        await client.SendRawAsync($"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${64 * 1024 + 1}\r\n");
        (await client.ReadAsync()).AssertError("ERR Protocol error: invalid bulk length");
        Assert.True(await client.IsClosedByServerAsync());
        await using var other = await node.ConnectAsync();
        Assert.Equal(0, (await other.SendAsync("EXISTS", "k")).Int());
        (await other.SendAsync("SET", "k", new string('x', 64 * 1024))).AssertOk();
    }

    [Theory]
    [InlineData("*2\r\n$3\r\nGET\r\n:12\r\n", "ERR Protocol error: expected '$', got ':'")]
    [InlineData("*abc\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*2\r\n$-5\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("SET \"unbalanced\r\n", "ERR Protocol error: unbalanced quotes in request")]
    public async Task Malformed_frames_close_the_connection_never_the_node(string frame, string error)
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("SET", "kept", "1")).AssertOk();
        await client.SendRawAsync(frame);
        (await client.ReadAsync()).AssertError(error);
        Assert.True(await client.IsClosedByServerAsync());
        await using var other = await node.ConnectAsync();
        Assert.Equal("1", (await other.SendAsync("GET", "kept")).Text());
    }

    [Fact]
    public async Task A_client_that_dies_mid_request_stores_nothing_and_leaves_the_node_serving()
    {
        await using var node = await TestNode.StartAsync();
        var dying = await node.ConnectAsync();
        await dying.SendRawAsync($"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n${100_000}\r\n{new string('x', 50_000)}");
        await dying.DisposeAsync(); // reset with half the value sent
        await Poll.UntilAsync(() => node.Node.Clients.Count == 0, "the node to drop the dead connection");
        await using var other = await node.ConnectAsync();
        Assert.Equal(0, (await other.SendAsync("EXISTS", "half")).Int());
        (await other.SendAsync("SET", "whole", "1")).AssertOk();
        Assert.Equal(1, (await other.SendAsync("DBSIZE")).Int());
    }

    [Fact]
    public async Task Too_many_arguments_close_the_connection()
    {
        await using var node = await TestNode.StartAsync(o => o.MaxArguments = 100);
        await using var client = await node.ConnectAsync();
        await client.SendRawAsync("*101\r\n");
        (await client.ReadAsync()).AssertError("ERR Protocol error: invalid multibulk length");
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Unknown_commands_quote_their_arguments()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("FOO", "bar", "baz")).AssertError("ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' ");
        (await client.SendAsync("PING")).Text();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Concurrent_clients_see_every_increment_inline_or_through_the_mailbox(bool inlineWhenIdle)
    {
        await using var node = await TestNode.StartAsync(o => o.InlineWhenIdle = inlineWhenIdle);
        const int clients = 16, increments = 300;
        async Task Worker(int id)
        {
            await using var client = await node.ConnectAsync();
            var batch = new List<byte>();
            for (int i = 0; i < increments; i++)
            {
                batch.AddRange(RespRequestEncoder.Encode("INCR", "shared"));
                batch.AddRange(RespRequestEncoder.Encode("INCR", $"own{id}"));
                batch.AddRange(RespRequestEncoder.Encode("MSET", $"x{id}", "1", $"y{i}", "2"));
            }
            await client.SendRawAsync(batch.ToArray());
            for (int i = 0; i < increments; i++)
            {
                (await client.ReadAsync()).Int();
                Assert.Equal(i + 1, (await client.ReadAsync()).Int());
                (await client.ReadAsync()).AssertOk();
            }
        }
        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(() => Worker(i))));
        await using var check = await node.ConnectAsync();
        Assert.Equal((clients * increments).ToString(), (await check.SendAsync("GET", "shared")).Text());
    }

    [Fact]
    public async Task Idle_clients_are_closed_after_the_timeout()
    {
        var clock = new ManualClock();
        await using var node = await TestNode.StartAsync(o => o.Timeout = 5, clock);
        await using var idle = await node.ConnectAsync();
        await using var busy = await node.ConnectAsync();
        (await idle.SendAsync("PING")).Text();
        clock.Advance(TimeSpan.FromSeconds(3));
        (await busy.SendAsync("PING")).Text();
        clock.Advance(TimeSpan.FromSeconds(3)); // idle: 6 s, busy: 3 s
        Assert.True(await idle.IsClosedByServerAsync());
        Assert.Equal("PONG", (await busy.SendAsync("PING")).Text());
    }

    [Fact]
    public async Task Redis_cli_round_trip()
    {
        await using var node = await TestNode.StartAsync();
        var set = await RedisCli.RunAsync(node.Port, "SET", "cli:key", "hello from redis-cli");
        Assert.Equal(0, set.ExitCode);
        Assert.Equal("OK", set.Output.Trim());
        var get = await RedisCli.RunAsync(node.Port, "GET", "cli:key");
        Assert.Equal("hello from redis-cli", get.Output.Trim());
        var incr = await RedisCli.RunAsync(node.Port, "INCRBY", "cli:n", "41");
        Assert.Equal("41", incr.Output.Trim());
        var ttl = await RedisCli.RunAsync(node.Port, "TTL", "cli:key");
        Assert.Equal("-1", ttl.Output.Trim());
        var error = await RedisCli.RunAsync(node.Port, "INCR", "cli:key");
        Assert.Contains("ERR value is not an integer or out of range", error.Output);
    }
}
