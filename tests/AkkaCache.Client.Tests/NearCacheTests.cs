using AkkaCache.Client.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;

namespace AkkaCache.Client.Tests;

/// <summary>The near cache: GETs served in process, dropped by the node's invalidation pushes, bounded.</summary>
public sealed class NearCacheTests : IAsyncLifetime
{
    private StandaloneNode _node = null!;
    private RespTestClient _other = null!;

    public async Task InitializeAsync()
    {
        _node = await StandaloneNode.StartAsync();
        _other = await _node.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _other.DisposeAsync();
        await _node.DisposeAsync();
    }

    private Task<AkkaCacheClient> ConnectAsync(int maxEntries) =>
        AkkaCacheClient.ConnectAsync(new AkkaCacheClientOptions { EndPoints = _node.EndPoint, NearCacheMaxEntries = maxEntries });

    /// <summary>Reads the node served from its keyspace (INFO keyspace_hits): a near-cache hit does not count.</summary>
    private async Task<long> ServerHitsAsync()
    {
        string info = (await _other.SendAsync("INFO", "stats")).Text();
        var line = info.Split("\r\n").Single(l => l.StartsWith("keyspace_hits:", StringComparison.Ordinal));
        return long.Parse(line["keyspace_hits:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_repeated_get_is_served_locally_until_another_client_writes_the_key()
    {
        await using var cache = await ConnectAsync(100);
        await cache.SetAsync("k", "old");
        long before = await ServerHitsAsync();
        Assert.Equal("old", await cache.GetStringAsync("k"));
        Assert.Equal(before + 1, await ServerHitsAsync());
        Assert.Equal("old", await cache.GetStringAsync("k"));
        Assert.Equal("old", await cache.GetStringAsync("k"));
        Assert.Equal(before + 1, await ServerHitsAsync());

        (await _other.SendAsync("SET", "k", "new")).AssertOk();
        // the invalidation push arrives on the client's connection asynchronously
        await Poll.UntilAsync(async () => await cache.GetStringAsync("k") == "new", "the near cache to drop the overwritten key");
        long afterRefetch = await ServerHitsAsync();
        Assert.Equal("new", await cache.GetStringAsync("k"));
        Assert.Equal(afterRefetch, await ServerHitsAsync());
    }

    [Fact]
    public async Task A_write_through_the_client_replaces_what_it_reads_next()
    {
        await using var cache = await ConnectAsync(100);
        await cache.SetAsync("k", "1");
        Assert.Equal("1", await cache.GetStringAsync("k"));
        await cache.SetAsync("k", "2");
        Assert.Equal("2", await cache.GetStringAsync("k"));
        Assert.True(await cache.DeleteAsync("k"));
        Assert.Null(await cache.GetStringAsync("k"));

        // any write call drops the keys it names, batches and IDistributedCache included, before the node's push comes
        await cache.SetAsync("a", "1");
        await cache.SetAsync("b", "1");
        Assert.Equal("1", await cache.GetStringAsync("a"));
        Assert.Equal("1", await cache.GetStringAsync("b"));
        await cache.SetManyAsync([new("a", "2"), new("b", "2")]);
        Assert.Equal("2", await cache.GetStringAsync("a"));
        Assert.Equal("2", await cache.GetStringAsync("b"));
        IDistributedCache distributed = new AkkaCacheDistributedCache(cache);
        distributed.SetString("d", "1");
        Assert.Equal("1", distributed.GetString("d"));
        distributed.SetString("d", "2");
        Assert.Equal("2", distributed.GetString("d"));
    }

    [Fact]
    public async Task The_near_cache_keeps_at_most_its_bound_dropping_the_least_recently_used()
    {
        await using var cache = await ConnectAsync(2);
        foreach (var key in new[] { "a", "b", "c" }) await cache.SetAsync(key, key);
        long start = await ServerHitsAsync();
        foreach (var key in new[] { "a", "b", "c" }) Assert.Equal(key, await cache.GetStringAsync(key));
        Assert.Equal(start + 3, await ServerHitsAsync());
        Assert.Equal("c", await cache.GetStringAsync("c"));
        Assert.Equal("b", await cache.GetStringAsync("b"));
        Assert.Equal(start + 3, await ServerHitsAsync());
        Assert.Equal("a", await cache.GetStringAsync("a"));   // "a" went first when "c" came in
        Assert.Equal(start + 4, await ServerHitsAsync());
    }

    [Fact]
    public async Task A_lost_connection_empties_the_near_cache()
    {
        await using var cache = await ConnectAsync(100);
        await cache.SetAsync("k", "old");
        Assert.Equal("old", await cache.GetStringAsync("k"));
        Assert.True((await _other.SendAsync("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")).Int() >= 1);
        // written while the client is not connected: no invalidation can reach it, only the flush on the lost connection
        (await _other.SendAsync("SET", "k", "new")).AssertOk();
        await Poll.UntilAsync(async () =>
        {
            try
            {
                return await cache.GetStringAsync("k") == "new";
            }
            catch (AkkaCacheException)
            {
                return false;   // a call caught by the lost connection; the next one reconnects
            }
        }, "the near cache to be emptied when its connection was lost");
    }

    [Fact]
    public async Task Off_by_default_every_get_goes_to_the_node()
    {
        await using var cache = await AkkaCacheClient.ConnectAsync(_node.EndPoint);
        await cache.SetAsync("k", "v");
        long before = await ServerHitsAsync();
        Assert.Equal("v", await cache.GetStringAsync("k"));
        Assert.Equal("v", await cache.GetStringAsync("k"));
        Assert.Equal(before + 2, await ServerHitsAsync());
    }
}
