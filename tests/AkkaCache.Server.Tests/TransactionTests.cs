using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

public sealed class TransactionTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Multi_exec_runs_queued_commands_in_order_across_shards()
    {
        await using var client = await _node.ConnectAsync();
        (await client.SendAsync("MULTI")).AssertOk();
        Assert.Equal("QUEUED", (await client.SendAsync("SET", "a", "1")).Text());
        Assert.Equal("QUEUED", (await client.SendAsync("INCR", "a")).Text());
        Assert.Equal("QUEUED", (await client.SendAsync("MSET", "b", "2", "c", "3")).Text());
        var exec = await client.SendAsync("EXEC");
        Assert.Equal(3, exec.Items!.Count);
        exec.Items[0].AssertOk();
        Assert.Equal(2, exec.Items[1].Int());
        exec.Items[2].AssertOk();
    }

    [Fact]
    public async Task Errors_while_queueing_abort_the_transaction()
    {
        await using var client = await _node.ConnectAsync();
        (await client.SendAsync("MULTI")).AssertOk();
        Assert.Equal("QUEUED", (await client.SendAsync("SET", "k", "1")).Text());
        (await client.SendAsync("GET")).AssertError("ERR wrong number of arguments for 'get' command");
        (await client.SendAsync("NOSUCH")).AssertErrorStartsWith("ERR unknown command 'NOSUCH'");
        (await client.SendAsync("EXEC")).AssertError("EXECABORT Transaction discarded because of previous errors.");
        Assert.Equal(0, (await client.SendAsync("EXISTS", "k")).Int());
    }

    [Fact]
    public async Task Runtime_errors_do_not_abort_the_others()
    {
        await using var client = await _node.ConnectAsync();
        (await client.SendAsync("SET", "s", "text")).AssertOk();
        (await client.SendAsync("MULTI")).AssertOk();
        await client.SendAsync("INCR", "s");
        await client.SendAsync("SET", "t", "ok");
        var exec = await client.SendAsync("EXEC");
        exec.Items![0].AssertError("ERR value is not an integer or out of range");
        exec.Items[1].AssertOk();
    }

    [Fact]
    public async Task Control_command_misuse()
    {
        await using var client = await _node.ConnectAsync();
        (await client.SendAsync("EXEC")).AssertError("ERR EXEC without MULTI");
        (await client.SendAsync("DISCARD")).AssertError("ERR DISCARD without MULTI");
        (await client.SendAsync("MULTI")).AssertOk();
        (await client.SendAsync("MULTI")).AssertError("ERR MULTI calls can not be nested");
        (await client.SendAsync("WATCH", "x")).AssertError("ERR WATCH inside MULTI is not allowed");
        await client.SendAsync("SET", "d", "1");
        (await client.SendAsync("DISCARD")).AssertOk();
        Assert.Equal(0, (await client.SendAsync("EXISTS", "d")).Int());
    }

    [Fact]
    public async Task Watch_aborts_exec_when_another_client_writes_the_key()
    {
        await using var a = await _node.ConnectAsync();
        await using var b = await _node.ConnectAsync();
        (await a.SendAsync("SET", "balance", "100")).AssertOk();
        (await a.SendAsync("WATCH", "balance", "absent")).AssertOk();
        (await b.SendAsync("INCRBY", "balance", "5")).Int();
        (await a.SendAsync("MULTI")).AssertOk();
        await a.SendAsync("SET", "balance", "0");
        Assert.True((await a.SendAsync("EXEC")).IsNull);
        Assert.Equal("105", (await a.SendAsync("GET", "balance")).Text());

        (await a.SendAsync("WATCH", "balance", "absent")).AssertOk();
        (await b.SendAsync("SET", "absent", "now-present")).AssertOk();
        (await a.SendAsync("MULTI")).AssertOk();
        await a.SendAsync("SET", "balance", "0");
        Assert.True((await a.SendAsync("EXEC")).IsNull);

        // created and deleted again between WATCH and EXEC: still a change, as in Redis
        (await a.SendAsync("WATCH", "ghost")).AssertOk();
        (await b.SendAsync("SET", "ghost", "boo")).AssertOk();
        Assert.Equal(1, (await b.SendAsync("DEL", "ghost")).Int());
        (await a.SendAsync("MULTI")).AssertOk();
        await a.SendAsync("SET", "balance", "0");
        Assert.True((await a.SendAsync("EXEC")).IsNull);

        (await a.SendAsync("WATCH", "balance")).AssertOk();
        (await a.SendAsync("MULTI")).AssertOk();
        await a.SendAsync("SET", "balance", "1");
        Assert.Single((await a.SendAsync("EXEC")).Items!);
        Assert.Equal("1", (await a.SendAsync("GET", "balance")).Text());

        (await a.SendAsync("WATCH", "balance")).AssertOk();
        (await b.SendAsync("SET", "balance", "2")).AssertOk();
        (await a.SendAsync("UNWATCH")).AssertOk();
        (await a.SendAsync("MULTI")).AssertOk();
        await a.SendAsync("SET", "balance", "3");
        Assert.Single((await a.SendAsync("EXEC")).Items!);
    }

    [Fact]
    public async Task Concurrent_watch_multi_exec_increments_lose_no_update()
    {
        const int clients = 8, rounds = 50;
        await using (var setup = await _node.ConnectAsync()) (await setup.SendAsync("SET", "{c}n", "0")).AssertOk();
        async Task Worker()
        {
            await using var client = await _node.ConnectAsync();
            for (int done = 0; done < rounds;)
            {
                (await client.SendAsync("WATCH", "{c}n")).AssertOk();
                long value = long.Parse((await client.SendAsync("GET", "{c}n")).Text());
                (await client.SendAsync("MULTI")).AssertOk();
                await client.SendAsync("SET", "{c}n", (value + 1).ToString());
                await client.SendAsync("SET", "{c}last", value.ToString());
                if (!(await client.SendAsync("EXEC")).IsNull) done++;
            }
        }
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(Worker)));
        await using var check = await _node.ConnectAsync();
        Assert.Equal((clients * rounds).ToString(), (await check.SendAsync("GET", "{c}n")).Text());
    }
}
