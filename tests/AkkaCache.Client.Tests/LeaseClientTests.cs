using System.Text;
using AkkaCache.Client.Tests.Infrastructure;

namespace AkkaCache.Client.Tests;

/// <summary>GetOrCreateAsync (AC.GETL / AC.SETL leases) against a real standalone node.</summary>
public sealed class LeaseClientTests : IAsyncLifetime
{
    private StandaloneNode _node = null!;
    private AkkaCacheClient _client = null!;
    private AkkaCacheClient _cache = null!;

    public async Task InitializeAsync()
    {
        _node = await StandaloneNode.StartAsync();
        _client = await AkkaCacheClient.ConnectAsync(_node.EndPoint);
        // generous: a loaded 2-core machine runs a thousand pollers
        _cache = _client.WithTimeout(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task A_thousand_concurrent_misses_run_the_factory_once_and_all_get_the_value()
    {
        int calls = 0;
        var value = Encoding.UTF8.GetBytes("from the database");
        async ValueTask<byte[]> Factory(CancellationToken cancellation)
        {
            Interlocked.Increment(ref calls);
            await Task.Yield();
            return value;
        }
        var results = await Task.WhenAll(Enumerable.Range(0, 1000)
            .Select(_ => Task.Run(() => _cache.GetOrCreateAsync("hot", Factory, TimeSpan.FromMinutes(5)).AsTask())));
        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal(value, r));
        Assert.Equal(value, await _cache.GetAsync("hot"));
    }

    [Fact]
    public async Task A_hit_does_not_call_the_factory()
    {
        await _cache.SetAsync("k", "cached");
        var result = await _cache.GetOrCreateStringAsync("k", _ => throw new InvalidOperationException("not on a hit"), TimeSpan.FromMinutes(1));
        Assert.Equal("cached", result);
    }

    [Fact]
    public async Task A_failing_factory_throws_to_its_caller_and_gives_the_lease_to_a_waiter()
    {
        int calls = 0;
        async ValueTask<byte[]> Factory(CancellationToken cancellation)
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                await Task.Yield();
                throw new InvalidOperationException("database down");
            }
            return "recovered"u8.ToArray();
        }
        // a lease far longer than the call's timeout: the waiters succeed only because the lease is given back
        var options = new GetOrCreateOptions { LeaseDuration = TimeSpan.FromMinutes(10) };
        var callers = Enumerable.Range(0, 20)
            .Select(_ => Task.Run(() => _cache.GetOrCreateAsync("flaky", Factory, TimeSpan.FromMinutes(1), options).AsTask()))
            .ToList();
        var outcomes = await Task.WhenAll(callers.Select(async t =>
        {
            try { return Encoding.UTF8.GetString(await t); }
            catch (InvalidOperationException e) { return "threw: " + e.Message; }
        }));
        Assert.Equal(1, outcomes.Count(o => o == "threw: database down"));
        Assert.Equal(19, outcomes.Count(o => o == "recovered"));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task A_delete_while_the_factory_runs_keeps_the_loaded_value_out_of_the_cache()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<byte[]> Factory(CancellationToken cancellation)
        {
            started.TrySetResult();
            await release.Task;
            return "stale"u8.ToArray();
        }
        var loading = _cache.GetOrCreateAsync("doc", Factory, TimeSpan.FromMinutes(1)).AsTask();
        await started.Task;
        await _cache.DeleteAsync("doc"); // the backing store changed: the invalidation arrives mid-load
        release.SetResult();
        Assert.Equal("stale"u8.ToArray(), await loading); // its caller still gets what it loaded
        Assert.Null(await _cache.GetAsync("doc"));
    }

    [Fact]
    public async Task Jitter_keeps_the_time_to_live_within_bounds()
    {
        var options = new GetOrCreateOptions { TtlJitter = 0.1 };
        var ttls = new List<double>();
        for (int i = 0; i < 40; i++)
        {
            string key = $"j{i}";
            await _cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new byte[] { 1 }), TimeSpan.FromSeconds(100), options);
            ttls.Add((await _cache.TtlAsync(key))!.Value.TotalSeconds);
        }
        Assert.All(ttls, t => Assert.InRange(t, 89.0, 110.0));
        Assert.True(ttls.Distinct().Count() > 1, "the expiries were not spread");
        for (int i = 0; i < 1000; i++)
            Assert.InRange(AkkaCacheClient.JitteredMs(TimeSpan.FromSeconds(100), 0.1), 90_000, 110_000);
        Assert.Equal(100_000, AkkaCacheClient.JitteredMs(TimeSpan.FromSeconds(100), 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await _cache.GetOrCreateAsync("x", _ => ValueTask.FromResult(new byte[] { 1 }), TimeSpan.FromSeconds(1), new GetOrCreateOptions { TtlJitter = 1 }));
    }

    [Fact]
    public async Task Early_refresh_reloads_a_hit_near_expiry_and_stores_it_over_the_value_read()
    {
        await _cache.SetAsync("r", "old", TimeSpan.FromSeconds(2));
        // delta × beta far above the time left: XFetch always refreshes
        var eager = new GetOrCreateOptions { EarlyRefreshBeta = 1000, ExpectedLoadTime = TimeSpan.FromSeconds(10) };
        var result = await _cache.GetOrCreateStringAsync("r", _ => ValueTask.FromResult("new"), TimeSpan.FromMinutes(1), eager);
        Assert.Equal("new", result);
        Assert.Equal("new", await _cache.GetStringAsync("r"));
        Assert.True((await _cache.TtlAsync("r"))!.Value > TimeSpan.FromSeconds(30));

        // off, or a key without expiry: the hit is returned as is
        await _cache.SetAsync("p", "persistent");
        Assert.Equal("persistent", await _cache.GetOrCreateStringAsync("p", _ => ValueTask.FromResult("reloaded"), TimeSpan.FromMinutes(1), eager));
        Assert.Equal("new", await _cache.GetOrCreateStringAsync("r", _ => ValueTask.FromResult("again"), TimeSpan.FromMinutes(1)));
        Assert.False(AkkaCacheClient.ShouldRefreshEarly(-1, eager));
        Assert.False(AkkaCacheClient.ShouldRefreshEarly(1_000_000_000, new GetOrCreateOptions { EarlyRefreshBeta = 1 }));
    }

    [Fact]
    public async Task A_node_with_lease_stale_answers_waiters_with_the_old_value()
    {
        await using var node = await StandaloneNode.StartAsync(o => o.LeaseStale = 60_000);
        await using var client = await AkkaCacheClient.ConnectAsync(node.EndPoint);
        await client.SetAsync("s", "old");
        await client.DeleteAsync("s");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loading = client.GetOrCreateStringAsync("s", async _ =>
        {
            started.SetResult();
            await release.Task;
            return "new";
        }, TimeSpan.FromMinutes(1)).AsTask();
        await started.Task;
        // the lease is held: another caller is served the deleted value instead of waiting
        Assert.Equal("old", await client.GetOrCreateStringAsync("s", _ => throw new InvalidOperationException("one load"), TimeSpan.FromMinutes(1)));
        release.SetResult();
        Assert.Equal("new", await loading);
        Assert.Equal("new", await client.GetStringAsync("s"));
    }
}
