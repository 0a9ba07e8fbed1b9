using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>AC.GETL / AC.SETL fill leases against a real node, on a clock the tests drive.</summary>
public sealed class LeaseTests : ConnectedNodeTest
{
    private static (string Kind, RespValue Payload) Parse(RespValue reply)
    {
        Assert.Equal(2, reply.Items!.Count);
        return (reply.Items![0].Text(), reply.Items![1]);
    }

    private async Task<long> LeaseAsync(string key, string leaseMs = "10000")
    {
        var (kind, payload) = Parse(await Send("AC.GETL", key, leaseMs));
        Assert.Equal("LEASE", kind);
        return payload.Int();
    }

    [Fact]
    public async Task Concurrent_misses_from_many_connections_get_exactly_one_lease()
    {
        const int callers = 200;
        var clients = await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Node.ConnectAsync()));
        try
        {
            var replies = await Task.WhenAll(clients.Select(c => c.SendAsync("AC.GETL", "hot", "10000")));
            var kinds = replies.Select(r => Parse(r).Kind).ToList();
            Assert.Equal(1, kinds.Count(k => k == "LEASE"));
            Assert.Equal(callers - 1, kinds.Count(k => k == "WAIT"));
            Assert.All(replies.Where(r => Parse(r).Kind == "WAIT"), r => Assert.True(r.Items![1].IsNull));
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task Setl_with_the_token_stores_once_and_later_readers_hit()
    {
        long token = await LeaseAsync("k");
        Assert.True(token > 0);
        Assert.Equal(1, (await Send("AC.SETL", "k", token.ToString(), "loaded", "EX", "30")).Int());
        Assert.Equal("loaded", (await Send("GET", "k")).Text());
        Assert.Equal(30, (await Send("TTL", "k")).Int());
        // a token fills once
        Assert.Equal(0, (await Send("AC.SETL", "k", token.ToString(), "again")).Int());
        var (kind, payload) = Parse(await Send("AC.GETL", "k", "10000"));
        Assert.Equal("HIT", kind);
        Assert.Equal("loaded", payload.Text());
    }

    [Theory]
    [InlineData("DEL", "k")]
    [InlineData("UNLINK", "k")]
    [InlineData("SET", "k", "fresh")]
    [InlineData("INCR", "k")]
    [InlineData("FLUSHALL")]
    public async Task A_write_between_getl_and_setl_refuses_the_fill(params string[] write)
    {
        long token = await LeaseAsync("k");
        await Send(write);
        Assert.Equal(0, (await Send("AC.SETL", "k", token.ToString(), "stale")).Int());
        var after = await Send("GET", "k");
        Assert.NotEqual("stale", after.IsNull ? null : after.Text());
    }

    [Fact]
    public async Task Expire_of_a_written_key_and_a_value_expiring_invalidate_the_lease()
    {
        long token = await LeaseAsync("k");
        (await Send("SET", "k", "v", "PX", "100")).AssertOk();
        Clock.Advance(TimeSpan.FromMilliseconds(200));
        // the written value expired: the old token stays refused, a new reader gets a new lease
        Assert.Equal(0, (await Send("AC.SETL", "k", token.ToString(), "stale")).Int());
        long second = await LeaseAsync("k");
        Assert.NotEqual(token, second);
        Assert.Equal(1, (await Send("AC.SETL", "k", second.ToString(), "v2")).Int());
    }

    [Fact]
    public async Task A_lease_expires_on_the_node_clock()
    {
        long first = await LeaseAsync("k", "1000");
        Assert.Equal("WAIT", Parse(await Send("AC.GETL", "k", "1000")).Kind);
        Clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal("WAIT", Parse(await Send("AC.GETL", "k", "1000")).Kind);
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        long second = await LeaseAsync("k", "1000");
        Assert.NotEqual(first, second);
        Assert.Equal(0, (await Send("AC.SETL", "k", first.ToString(), "old")).Int());
        Assert.True((await Send("GET", "k")).IsNull);
        Assert.Equal(1, (await Send("AC.SETL", "k", second.ToString(), "new")).Int());
        Assert.Equal("new", (await Send("GET", "k")).Text());
    }

    [Fact]
    public async Task An_expired_lease_token_is_refused_even_without_a_new_reader()
    {
        long token = await LeaseAsync("k", "500");
        Clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(0, (await Send("AC.SETL", "k", token.ToString(), "late")).Int());
        Assert.True((await Send("GET", "k")).IsNull);
    }

    [Fact]
    public async Task Unlease_gives_the_lease_back_so_the_next_reader_loads_at_once()
    {
        long token = await LeaseAsync("k");
        Assert.Equal(0, (await Send("AC.UNLEASE", "k", (token + 1).ToString())).Int());
        Assert.Equal("WAIT", Parse(await Send("AC.GETL", "k", "10000")).Kind);
        Assert.Equal(1, (await Send("AC.UNLEASE", "k", token.ToString())).Int());
        Assert.Equal(0, (await Send("AC.UNLEASE", "k", token.ToString())).Int());
        Assert.Equal(0, (await Send("AC.SETL", "k", token.ToString(), "late")).Int());
        long next = await LeaseAsync("k");
        Assert.NotEqual(token, next);
        (await Send("AC.UNLEASE", "k")).AssertError("ERR wrong number of arguments for 'ac.unlease' command");
        (await Send("AC.UNLEASE", "k", "0")).AssertError("ERR invalid lease token in 'ac.unlease' command");
        (await Send("AC.UNLEASE", "k", "x")).AssertError("ERR value is not an integer or out of range");
    }

    [Fact]
    public async Task Leases_are_per_key()
    {
        long a = await LeaseAsync("a");
        long b = await LeaseAsync("b");
        Assert.NotEqual(a, b);
        Assert.Equal(0, (await Send("AC.SETL", "a", b.ToString(), "x")).Int());
        Assert.Equal(1, (await Send("AC.SETL", "a", a.ToString(), "x")).Int());
        Assert.Equal(1, (await Send("AC.SETL", "b", b.ToString(), "y")).Int());
    }

    [Fact]
    public async Task Meta_adds_the_time_left_and_the_version_to_a_hit()
    {
        (await Send("SET", "k", "v", "PX", "5000")).AssertOk();
        Clock.Advance(TimeSpan.FromMilliseconds(1000));
        var hit = await Send("AC.GETL", "k", "1000", "META");
        Assert.Equal(4, hit.Items!.Count);
        Assert.Equal("HIT", hit.Items[0].Text());
        Assert.Equal("v", hit.Items[1].Text());
        Assert.Equal(4000, hit.Items[2].Int());
        long version = hit.Items[3].Int();
        Assert.Equal(version, (await Send("AC.GETS", "k")).Items![1].Int());
        (await Send("SET", "p", "v")).AssertOk();
        Assert.Equal(-1, (await Send("AC.GETL", "p", "1000", "meta")).Items![2].Int());
        // a miss with META is the plain two-element lease reply
        Assert.Equal("LEASE", Parse(await Send("AC.GETL", "absent", "1000", "META")).Kind);
    }

    [Fact]
    public async Task Errors_and_arity()
    {
        (await Send("AC.GETL", "k")).AssertError("ERR wrong number of arguments for 'ac.getl' command");
        (await Send("AC.GETL", "k", "1", "2")).AssertError("ERR syntax error");
        (await Send("AC.GETL", "k", "1", "META", "x")).AssertError("ERR syntax error");
        (await Send("AC.GETL", "k", "soon")).AssertError("ERR value is not an integer or out of range");
        (await Send("AC.GETL", "k", "0")).AssertError("ERR invalid lease time in 'ac.getl' command");
        (await Send("AC.GETL", "k", "-5")).AssertError("ERR invalid lease time in 'ac.getl' command");
        (await Send("AC.SETL", "k", "1")).AssertError("ERR wrong number of arguments for 'ac.setl' command");
        (await Send("AC.SETL", "k", "x", "v")).AssertError("ERR value is not an integer or out of range");
        (await Send("AC.SETL", "k", "0", "v")).AssertError("ERR invalid lease token in 'ac.setl' command");
        (await Send("AC.SETL", "k", "-1", "v")).AssertError("ERR invalid lease token in 'ac.setl' command");
        (await Send("AC.SETL", "k", "1", "v", "EX")).AssertError("ERR syntax error");
        (await Send("AC.SETL", "k", "1", "v", "KEEPTTL", "1")).AssertError("ERR syntax error");
        (await Send("AC.SETL", "k", "1", "v", "EX", "0")).AssertError("ERR invalid expire time in 'ac.setl' command");
        // nothing was leased or stored by the refused calls
        Assert.Equal("LEASE", Parse(await Send("AC.GETL", "k", "1000")).Kind);
    }

    [Fact]
    public async Task Command_info_names_both_as_keyed_writes()
    {
        var info = await Send("COMMAND", "INFO", "AC.GETL", "AC.SETL");
        Assert.Equal(2, info.Items!.Count);
        foreach (var command in info.Items!)
        {
            Assert.Contains("write", command.Items![2].Items!.Select(f => f.Text()));
            Assert.Equal(1, command.Items[3].Int());
        }
    }
}

/// <summary>AC.GETL's STALE reply, on a node with LeaseStale on.</summary>
public sealed class LeaseStaleTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private TestNode _node = null!;
    private RespTestClient _client = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync(o => o.LeaseStale = 500, _clock);
        _client = await _node.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _node.DisposeAsync();
    }

    private Task<RespValue> Send(params string[] args) => _client.SendAsync(args);

    private async Task<(string Kind, RespValue Payload)> GetL(string key)
    {
        var reply = await Send("AC.GETL", key, "10000");
        return (reply.Items![0].Text(), reply.Items![1]);
    }

    [Fact]
    public async Task Waiters_get_the_deleted_value_for_lease_stale_ms_and_the_leaseholder_loads()
    {
        (await Send("SET", "k", "old")).AssertOk();
        Assert.Equal(1, (await Send("DEL", "k")).Int());
        var (kind, token) = await GetL("k");
        Assert.Equal("LEASE", kind);
        var (waiter, stale) = await GetL("k");
        Assert.Equal("STALE", waiter);
        Assert.Equal("old", stale.Text());
        Assert.True((await Send("GET", "k")).IsNull); // only AC.GETL serves it
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal("WAIT", (await GetL("k")).Kind);
        Assert.Equal(1, (await Send("AC.SETL", "k", token.Int().ToString(), "new")).Int());
        Assert.Equal("new", (await GetL("k")).Payload.Text());
    }

    [Fact]
    public async Task Config_set_lease_stale_turns_stale_serving_off_and_on()
    {
        Assert.Equal(["lease-stale", "500"], (await Send("CONFIG", "GET", "lease-stale")).Items!.Select(i => i.Text()));
        (await Send("CONFIG", "SET", "lease-stale", "0")).AssertOk();
        (await Send("SET", "off", "old")).AssertOk();
        Assert.Equal(1, (await Send("DEL", "off")).Int());
        Assert.Equal("LEASE", (await GetL("off")).Kind);
        Assert.Equal("WAIT", (await GetL("off")).Kind);

        (await Send("CONFIG", "SET", "lease-stale", "2000")).AssertOk();
        (await Send("SET", "on", "old")).AssertOk();
        Assert.Equal(1, (await Send("DEL", "on")).Int());
        Assert.Equal("LEASE", (await GetL("on")).Kind);
        _clock.Advance(TimeSpan.FromMilliseconds(1500)); // past the startup value, within the new one
        Assert.Equal("STALE", (await GetL("on")).Kind);
        (await Send("CONFIG", "SET", "lease-stale", "-5")).AssertErrorStartsWith("ERR CONFIG SET failed");
    }

    [Fact]
    public async Task An_expired_value_is_served_stale_and_a_write_drops_it()
    {
        (await Send("SET", "e", "before", "PX", "100")).AssertOk();
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal("LEASE", (await GetL("e")).Kind);
        var (kind, stale) = await GetL("e");
        Assert.Equal("STALE", kind);
        Assert.Equal("before", stale.Text());

        (await Send("SET", "e", "fresh")).AssertOk();
        Assert.Equal(1, (await Send("DEL", "e")).Int());
        Assert.Equal("LEASE", (await GetL("e")).Kind);
        Assert.Equal("fresh", (await GetL("e")).Payload.Text());

        (await Send("FLUSHALL")).AssertOk();
        Assert.Equal("LEASE", (await GetL("e")).Kind);
        Assert.Equal("WAIT", (await GetL("e")).Kind);
    }
}
