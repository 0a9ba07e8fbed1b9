using System.Text;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>NodeServer.ConnectInProcess: a client session over in-memory pipes that behaves as a socket client does.</summary>
public sealed class InProcessConnectionTests
{
    [Fact]
    public async Task Raw_requests_get_raw_replies()
    {
        await using var node = await TestNode.StartAsync();
        await using var connection = node.Server.ConnectInProcess();
        var client = StreamRespClient.Over(connection);

        await client.SendRawAsync("*1\r\n$4\r\nPING\r\n");
        Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(await client.ReadRawAsync(7)));
        await client.SendRawAsync("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        Assert.Equal("+OK\r\n$5\r\nhello\r\n", Encoding.ASCII.GetString(await client.ReadRawAsync(16)));
        await client.SendRawAsync("PING inline\r\n");
        Assert.Equal("$6\r\ninline\r\n", Encoding.ASCII.GetString(await client.ReadRawAsync(12)));
    }

    [Fact]
    public async Task Writes_are_seen_by_socket_clients_and_back()
    {
        await using var node = await TestNode.StartAsync();
        await using var local = node.ConnectInProcess();
        await using var remote = await node.ConnectAsync();
        (await local.SendAsync("SET", "a", "1")).AssertOk();
        Assert.Equal("1", (await remote.SendAsync("GET", "a")).Text());
        (await remote.SendAsync("SET", "b", "2")).AssertOk();
        Assert.Equal("2", (await local.SendAsync("GET", "b")).Text());
        Assert.Equal(3, (await local.SendAsync("INCRBY", "a", "2")).Int());
    }

    [Fact]
    public async Task Client_list_shows_the_connection_and_closing_removes_it()
    {
        await using var node = await TestNode.StartAsync();
        await using var observer = await node.ConnectAsync();
        var local = node.ConnectInProcess();
        long id = (await local.SendAsync("CLIENT", "ID")).Int();
        (await local.SendAsync("CLIENT", "SETNAME", "embedded")).AssertOk();

        var line = (await observer.SendAsync("CLIENT", "LIST", "ID", id.ToString())).Text();
        Assert.StartsWith($"id={id} addr=inproc:", line);
        Assert.Contains(" laddr=inproc:0 ", line);
        Assert.Contains(" name=embedded ", line);
        Assert.Contains(" cmd=client ", line);
        Assert.Contains("connected_clients:2", (await observer.SendAsync("INFO", "clients")).Text().Split("\r\n"));

        await local.DisposeAsync();
        await Poll.UntilAsync(async () => (await observer.SendAsync("CLIENT", "LIST", "ID", id.ToString())).Text() == "",
            "the in-process client gone from CLIENT LIST");
    }

    [Fact]
    public async Task Each_connection_has_its_own_address()
    {
        await using var node = await TestNode.StartAsync();
        await using var a = node.ConnectInProcess();
        await using var b = node.ConnectInProcess();
        var addrA = Field((await a.SendAsync("CLIENT", "INFO")).Text(), "addr");
        var addrB = Field((await b.SendAsync("CLIENT", "INFO")).Text(), "addr");
        Assert.StartsWith("inproc:", addrA);
        Assert.NotEqual(addrA, addrB);

        // CLIENT KILL ADDR names one of them only
        Assert.Equal(1, (await a.SendAsync("CLIENT", "KILL", "ADDR", addrB)).Int());
        Assert.True(await b.IsClosedByServerAsync());
        Assert.Equal("PONG", (await a.SendAsync("PING")).Text());
    }

    [Fact]
    public async Task Client_kill_closes_the_connection_after_the_replies_sent()
    {
        await using var node = await TestNode.StartAsync();
        await using var observer = await node.ConnectAsync();
        await using var connection = node.Server.ConnectInProcess();
        var local = StreamRespClient.Over(connection);
        long id = (await local.SendAsync("CLIENT", "ID")).Int();

        Assert.Equal(1, (await observer.SendAsync("CLIENT", "KILL", "ID", id.ToString())).Int());
        Assert.True(await local.IsClosedByServerAsync());
        await Assert.ThrowsAsync<IOException>(async () => await connection.SendAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray()));
        await Poll.UntilAsync(async () => (await observer.SendAsync("CLIENT", "LIST", "ID", id.ToString())).Text() == "", "the killed client removed");
    }

    [Fact]
    public async Task Subscribers_get_messages_published_by_socket_clients_and_back()
    {
        await using var node = await TestNode.StartAsync();
        await using var local = node.ConnectInProcess();
        await using var remote = await node.ConnectAsync();

        var subscribed = await local.SendAsync("SUBSCRIBE", "news");
        Assert.Equal(["subscribe", "news", "1"], subscribed.Items!.Select(i => i.AsString()));
        Assert.Equal(1, (await remote.SendAsync("PUBLISH", "news", "hello")).Int());
        var message = await local.ReadAsync();
        Assert.Equal(["message", "news", "hello"], message.Items!.Select(i => i.AsString()));

        await using var listener = await node.ConnectAsync();
        await listener.SendAsync("SUBSCRIBE", "replies");
        await using var publisher = node.ConnectInProcess();
        Assert.Equal(1, (await publisher.SendAsync("PUBLISH", "replies", "from inside")).Int());
        Assert.Equal(["message", "replies", "from inside"], (await listener.ReadAsync()).Items!.Select(i => i.AsString()));
    }

    [Fact]
    public async Task Quit_answers_then_closes()
    {
        await using var node = await TestNode.StartAsync();
        await using var local = node.ConnectInProcess();
        (await local.SendAsync("QUIT")).AssertOk();
        Assert.True(await local.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Abort_ends_a_pending_receive_and_the_session()
    {
        await using var node = await TestNode.StartAsync();
        await using var observer = await node.ConnectAsync();
        await using var connection = node.Server.ConnectInProcess();
        var local = StreamRespClient.Over(connection);
        long id = (await local.SendAsync("CLIENT", "ID")).Int();

        var pending = connection.ReceiveAsync(new byte[64]).AsTask();
        Assert.False(pending.IsCompleted);
        connection.Abort();
        Assert.Equal(0, await pending.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await connection.ReceiveAsync(new byte[64]));
        await Assert.ThrowsAsync<IOException>(async () => await connection.SendAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray()));
        await Poll.UntilAsync(async () => (await observer.SendAsync("CLIENT", "LIST", "ID", id.ToString())).Text() == "", "the aborted client removed");
    }

    [Fact]
    public async Task Requests_sent_before_closing_still_run()
    {
        await using var node = await TestNode.StartAsync();
        await using var observer = await node.ConnectAsync();
        var connection = node.Server.ConnectInProcess();
        await connection.SendAsync(RespRequestEncoder.Encode("SET", "last-words", "sent"));
        await connection.DisposeAsync();
        Assert.Equal(0, await connection.ReceiveAsync(new byte[16]));
        await Poll.UntilAsync(async () => (await observer.SendAsync("GET", "last-words")).AsString() == "sent", "the request sent before closing ran");
    }

    [Fact]
    public async Task Authentication_is_required_as_for_sockets()
    {
        await using var node = await TestNode.StartAsync(o => o.RequirePass = "secret");
        await using var local = node.ConnectInProcess();
        (await local.SendAsync("GET", "k")).AssertError("NOAUTH Authentication required.");
        (await local.SendAsync("AUTH", "wrong")).AssertErrorStartsWith("WRONGPASS");
        (await local.SendAsync("AUTH", "secret")).AssertOk();
        Assert.Equal(RespValue.Null, await local.SendAsync("GET", "k"));
    }

    [Fact]
    public async Task Resp3_hello_switches_the_protocol()
    {
        await using var node = await TestNode.StartAsync();
        await using var connection = node.Server.ConnectInProcess();
        var local = StreamRespClient.Over(connection);
        var hello = await local.SendAsync("HELLO", "3");
        Assert.Equal(RespType.Map, hello.Type);
        await local.SendRawAsync("*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n");
        Assert.Equal("_\r\n", Encoding.ASCII.GetString(await local.ReadRawAsync(3)));
    }

    [Fact]
    public async Task Stopping_the_node_closes_its_in_process_connections()
    {
        var node = await TestNode.StartAsync();
        await using var connection = node.Server.ConnectInProcess();
        var local = StreamRespClient.Over(connection);
        Assert.Equal("PONG", (await local.SendAsync("PING")).Text());
        var pending = connection.ReceiveAsync(new byte[64]).AsTask();

        await node.DisposeAsync();
        Assert.Equal(0, await pending.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Throws<ObjectDisposedException>(() => node.Server.ConnectInProcess());
    }

    [Fact]
    public async Task Big_values_and_long_pipelines_stream_both_ways()
    {
        await using var node = await TestNode.StartAsync(o => o.ProtoMaxBulkLen = "8mb");
        await using var connection = node.Server.ConnectInProcess();
        var local = StreamRespClient.Over(connection);

        var big = new string('x', 3 * 1024 * 1024);   // beyond the pipes' 1 MB back-pressure threshold
        (await local.SendAsync("SET", "big", big)).AssertOk();
        Assert.Equal(big, (await local.SendAsync("GET", "big")).Text());

        // 20,000 pipelined requests in one send while the replies are read concurrently, as a client's loops would
        const int count = 20_000;
        var pipeline = new List<byte>();
        for (int i = 0; i < count; i++) pipeline.AddRange(RespRequestEncoder.Encode("SET", $"key:{i}", new string('v', 100)));
        var sending = local.SendRawAsync(pipeline.ToArray());
        for (int i = 0; i < count; i++) (await local.ReadAsync()).AssertOk();
        await sending;
        Assert.Equal(count + 1, (await local.SendAsync("DBSIZE")).Int());
    }

    [Fact]
    public async Task An_empty_send_is_not_a_close()
    {
        await using var node = await TestNode.StartAsync();
        await using var connection = node.Server.ConnectInProcess();
        var local = StreamRespClient.Over(connection);
        await connection.SendAsync(ReadOnlyMemory<byte>.Empty);
        Assert.Equal("PONG", (await local.SendAsync("PING")).Text());
    }

    [Fact]
    public async Task The_announced_endpoint_is_the_bind_address_and_real_port()
    {
        await using var node = await TestNode.StartAsync();
        Assert.Equal($"127.0.0.1:{node.Port}", node.Server.AnnouncedEndPoint);
        await using var wildcard = await TestNode.StartAsync(o => o.Bind = "0.0.0.0");
        Assert.Equal($"127.0.0.1:{wildcard.Port}", wildcard.Server.AnnouncedEndPoint);
        await using var announced = await TestNode.StartAsync(o => o.Announce = "cache-1.internal:7000");
        Assert.Equal("cache-1.internal:7000", announced.Server.AnnouncedEndPoint);
    }

    [Fact]
    public async Task Status_of_a_standalone_node()
    {
        var node = await TestNode.StartAsync();
        await using (var local = node.ConnectInProcess())
        {
            (await local.SendAsync("SET", "a", "1")).AssertOk();
            (await local.SendAsync("SET", "b", "2")).AssertOk();
            var status = node.Server.GetStatus();
            Assert.False(status.IsClustered);
            Assert.True(status.CanServe);
            Assert.False(status.IsStopped);
            Assert.Equal(2, status.Keys);
            Assert.Equal(1, status.Clients);
            Assert.Equal(node.Port, status.Port);
            Assert.Equal(node.Server.AnnouncedEndPoint, status.EndPoint);
        }
        await node.DisposeAsync();
        var stopped = node.Server.GetStatus();
        Assert.True(stopped.IsStopped);
        Assert.False(stopped.CanServe);
    }

    private static string Field(string line, string name) =>
        line.Split(' ').Single(f => f.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
}
