using System.Text;
using AkkaCache.Client.Tests.Infrastructure;

namespace AkkaCache.Client.Tests;

/// <summary>The client's calls against a real standalone node over a real socket.</summary>
public sealed class ClientCommandTests : IAsyncLifetime
{
    private StandaloneNode _node = null!;
    private AkkaCacheClient _cache = null!;

    public async Task InitializeAsync()
    {
        _node = await StandaloneNode.StartAsync();
        _cache = await AkkaCacheClient.ConnectAsync(_node.EndPoint);
    }

    public async Task DisposeAsync()
    {
        await _cache.DisposeAsync();
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task A_standalone_node_is_one_primary_for_every_slot()
    {
        Assert.False(_cache.IsClustered);
        Assert.Equal([_node.EndPoint], _cache.Primaries);
        Assert.Equal(_node.EndPoint, _cache.OwnerOf("any key"));
    }

    [Fact]
    public async Task Strings_bytes_and_json_round_trip_and_a_miss_is_null()
    {
        await _cache.SetAsync("greeting", "hello");
        Assert.Equal("hello", await _cache.GetStringAsync("greeting"));

        byte[] binaryKey = [0, 255, 13, 10, 7];
        byte[] binaryValue = [.. Enumerable.Range(0, 300).Select(i => (byte)i)];
        await _cache.SetAsync(binaryKey, binaryValue);
        Assert.Equal(binaryValue, await _cache.GetAsync(binaryKey));

        await _cache.SetJsonAsync("user:1", new User("alice", 42));
        Assert.Equal(new User("alice", 42), await _cache.GetJsonAsync<User>("user:1"));

        Assert.Null(await _cache.GetAsync("missing"));
        Assert.Null(await _cache.GetStringAsync("missing"));
        Assert.Null(await _cache.GetJsonAsync<User>("missing"));

        // the bytes stored are the UTF-8 of the string, readable by any Redis client
        await using var raw = await _node.ConnectAsync();
        Assert.Equal("hello", (await raw.SendAsync("GET", "greeting")).AsString());
    }

    public sealed record User(string Name, int Age);

    [Fact]
    public async Task Ttl_expire_and_delete()
    {
        await _cache.SetAsync("short", "v", TimeSpan.FromMinutes(5));
        var ttl = await _cache.TtlAsync("short");
        Assert.NotNull(ttl);
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));

        await _cache.SetAsync("forever", "v");
        Assert.Equal(Timeout.InfiniteTimeSpan, await _cache.TtlAsync("forever"));
        Assert.Null(await _cache.TtlAsync("missing"));

        Assert.True(await _cache.ExpireAsync("forever", TimeSpan.FromSeconds(100)));
        Assert.InRange((await _cache.TtlAsync("forever"))!.Value, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(100));
        Assert.False(await _cache.ExpireAsync("missing", TimeSpan.FromSeconds(1)));

        Assert.Equal("v", Encoding.UTF8.GetString((await _cache.GetAndExpireAsync("short", TimeSpan.FromSeconds(30)))!));
        Assert.InRange((await _cache.TtlAsync("short"))!.Value, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30));

        Assert.True(await _cache.ExistsAsync("short"));
        Assert.True(await _cache.DeleteAsync("short"));
        Assert.False(await _cache.DeleteAsync("short"));
        Assert.False(await _cache.ExistsAsync("short"));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await _cache.SetAsync("k", "v", TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await _cache.ExpireAsync("k", TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task Add_stores_only_when_absent()
    {
        Assert.True(await _cache.AddAsync("once", "first"));
        Assert.False(await _cache.AddAsync("once", "second", TimeSpan.FromMinutes(1)));
        Assert.Equal("first", await _cache.GetStringAsync("once"));
    }

    [Fact]
    public async Task Increment_and_decrement_with_server_errors_surfaced()
    {
        Assert.Equal(1, await _cache.IncrementAsync("counter"));
        Assert.Equal(11, await _cache.IncrementAsync("counter", 10));
        Assert.Equal(8, await _cache.DecrementAsync("counter", 3));
        Assert.Equal(-1, await _cache.DecrementAsync("fresh"));

        await _cache.SetAsync("text", "abc");
        var notInteger = await Assert.ThrowsAsync<AkkaCacheServerException>(async () => await _cache.IncrementAsync("text"));
        Assert.Equal("INCRBY", notInteger.Command);
        Assert.StartsWith("ERR value is not an integer", notInteger.Error);

        await _cache.SetAsync("big", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var overflow = await Assert.ThrowsAsync<AkkaCacheServerException>(async () => await _cache.IncrementAsync("big"));
        Assert.Contains("overflow", overflow.Error);
        Assert.Equal(long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), await _cache.GetStringAsync("big"));
    }

    [Fact]
    public async Task Compare_and_swap_detects_a_write_in_between()
    {
        Assert.Null(await _cache.GetWithVersionAsync("doc"));
        Assert.True(await _cache.CompareAndSwapAsync("doc", 0, "v1"));
        Assert.False(await _cache.CompareAndSwapAsync("doc", 0, "again"));

        var first = (await _cache.GetWithVersionAsync("doc"))!;
        Assert.Equal("v1", Encoding.UTF8.GetString(first.Value));

        await _cache.SetAsync("doc", "someone else");
        Assert.False(await _cache.CompareAndSwapAsync("doc", first.Version, "stale"));
        Assert.Equal("someone else", await _cache.GetStringAsync("doc"));

        var second = (await _cache.GetWithVersionAsync("doc"))!;
        Assert.NotEqual(first.Version, second.Version);
        Assert.True(await _cache.CompareAndSwapAsync("doc", second.Version, "v3", TimeSpan.FromMinutes(1)));
        Assert.Equal("v3", await _cache.GetStringAsync("doc"));
        Assert.NotEqual(Timeout.InfiniteTimeSpan, await _cache.TtlAsync("doc"));
    }

    [Fact]
    public async Task Get_many_and_set_many_keep_the_request_order()
    {
        var items = Enumerable.Range(0, 1500)
            .Select(i => new KeyValuePair<CacheKey, CacheValue>($"many:{i}", $"value {i}")).ToList();
        await _cache.SetManyAsync(items);
        var keys = Enumerable.Range(0, 1600).Select(i => (CacheKey)$"many:{(i * 7919) % 1600}").ToList();
        var values = await _cache.GetManyAsync(keys);
        for (int i = 0; i < keys.Count; i++)
        {
            int n = (i * 7919) % 1600;
            Assert.Equal(n < 1500 ? $"value {n}" : null, values[i] is null ? null : Encoding.UTF8.GetString(values[i]!));
        }

        await _cache.SetManyAsync([new("ttl:a", "1"), new("ttl:b", "2")], TimeSpan.FromMinutes(1));
        Assert.NotEqual(Timeout.InfiniteTimeSpan, await _cache.TtlAsync("ttl:b"));
        Assert.Empty(await _cache.GetManyAsync([]));
    }

    [Fact]
    public async Task Concurrent_callers_share_the_connection_and_each_gets_its_own_reply()
    {
        const int tasks = 64, calls = 300;
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < calls; i++)
            {
                var key = $"own:{t}:{i % 10}";
                await _cache.SetAsync(key, $"{t}/{i}");
                Assert.Equal($"{t}/{i}", await _cache.GetStringAsync(key));
                await _cache.IncrementAsync("shared-counter");
            }
        })));
        Assert.Equal(tasks * calls, long.Parse((await _cache.GetStringAsync("shared-counter"))!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Large_values_round_trip()
    {
        var value = new byte[1024 * 1024 - 64];
        new Random(7).NextBytes(value);
        await _cache.SetAsync("large", value);
        Assert.Equal(value, await _cache.GetAsync("large"));
    }

    [Fact]
    public async Task An_oversize_value_gets_the_node_error_and_the_client_keeps_working()
    {
        var error = await Assert.ThrowsAsync<AkkaCacheServerException>(async () => await _cache.SetAsync("huge", new byte[2 * 1024 * 1024]));
        Assert.Contains("Protocol error", error.Error);
        // the node closed that connection; the next calls connect again
        await Poll.UntilAsync(async () =>
        {
            try
            {
                await _cache.SetAsync("after", "ok");
                return true;
            }
            catch (AkkaCacheConnectionException)
            {
                return false;
            }
        }, "the client to reconnect after the node closed the connection");
        Assert.Equal("ok", await _cache.GetStringAsync("after"));
        Assert.Null(await _cache.GetAsync("huge"));
    }

    [Fact]
    public async Task Any_command_through_execute_and_its_errors()
    {
        var reply = await _cache.ExecuteAsync("SET", ["raw", "1"], keyIndex: 0);
        Assert.Equal("OK", reply.AsString());
        Assert.Equal(1, (await _cache.ExecuteAsync("EXISTS", ["raw"], keyIndex: 0)).Integer);
        var unknown = await Assert.ThrowsAsync<AkkaCacheServerException>(() => _cache.ExecuteAsync("NOSUCHCOMMAND", []));
        Assert.StartsWith("ERR unknown command", unknown.Error);
        var arity = await Assert.ThrowsAsync<AkkaCacheServerException>(() => _cache.ExecuteAsync("GET", []));
        Assert.Contains("wrong number of arguments", arity.Error);
        Assert.True(await _cache.PingAsync() > TimeSpan.Zero);
    }
}
