using System.Text;
using AkkaCache.Cluster.Etcd;
using AkkaCache.Cluster.Tests.Infrastructure;

namespace AkkaCache.Cluster.Tests;

/// <summary>The etcd client against a real etcd. Each test works under its own key prefix, so they share one server.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdClientTests : IDisposable
{
    private readonly EtcdClient _client;
    private readonly string _prefix = $"/test/{Guid.NewGuid():N}/";

    public EtcdClientTests(EtcdFixture etcd) => _client = new EtcdClient(etcd.ClientUrl);

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Put_get_range_and_delete()
    {
        var first = await _client.PutAsync(_prefix + "a/1", "one");
        var second = await _client.PutAsync(_prefix + "a/2", new byte[] { 0, 1, 255 });
        await _client.PutAsync(_prefix + "a0", "just past the prefix");
        await _client.PutAsync(_prefix + "a/3", "");

        Assert.True(second > first);
        var one = await _client.GetAsync(_prefix + "a/1");
        Assert.NotNull(one);
        Assert.Equal("one", one.ValueText);
        Assert.Equal(first, one.CreateRevision);
        Assert.Equal(first, one.ModRevision);
        Assert.Equal(1, one.Version);
        Assert.Equal(0, one.Lease);
        Assert.Equal(new byte[] { 0, 1, 255 }, (await _client.GetAsync(_prefix + "a/2"))!.Value);
        Assert.Empty((await _client.GetAsync(_prefix + "a/3"))!.Value);
        Assert.Null(await _client.GetAsync(_prefix + "missing"));

        var range = await _client.GetPrefixAsync(_prefix + "a/");
        Assert.Equal([_prefix + "a/1", _prefix + "a/2", _prefix + "a/3"], range.Items.Select(kv => kv.Key));
        Assert.True(range.Revision >= second);
        Assert.Empty((await _client.GetPrefixAsync(_prefix + "nothing/")).Items);

        await _client.PutAsync(_prefix + "a/1", "uno");
        var updated = await _client.GetAsync(_prefix + "a/1");
        Assert.Equal(2, updated!.Version);
        Assert.Equal(first, updated.CreateRevision);
        Assert.True(updated.ModRevision > first);

        Assert.Equal(1, await _client.DeleteAsync(_prefix + "a/1"));
        Assert.Equal(0, await _client.DeleteAsync(_prefix + "a/1"));
        Assert.Equal(2, await _client.DeletePrefixAsync(_prefix + "a/"));
        Assert.Equal("just past the prefix", (await _client.GetAsync(_prefix + "a0"))!.ValueText);
        Assert.Equal(1, await _client.DeletePrefixAsync(_prefix));
        Assert.Empty((await _client.GetPrefixAsync(_prefix)).Items);
    }

    [Fact]
    public async Task Keys_and_prefixes_beyond_ascii_round_trip()
    {
        await _client.PutAsync(_prefix + "clé/ü", "valeur");

        var range = await _client.GetPrefixAsync(_prefix + "clé/");

        var kv = Assert.Single(range.Items);
        Assert.Equal(_prefix + "clé/ü", kv.Key);
        Assert.Equal("valeur", kv.ValueText);
    }

    [Fact]
    public async Task Revoking_a_lease_deletes_its_keys()
    {
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(30));
        await _client.PutAsync(_prefix + "member", "me", lease);

        Assert.Equal(lease, (await _client.GetAsync(_prefix + "member"))!.Lease);
        var ttl = await _client.KeepAliveOnceAsync(lease);
        Assert.InRange(ttl, 1, 30);

        await _client.RevokeLeaseAsync(lease);

        Assert.Null(await _client.GetAsync(_prefix + "member"));
        Assert.True(await _client.KeepAliveOnceAsync(lease) <= 0);
        await _client.RevokeLeaseAsync(lease); // already gone: not an error
    }

    [Fact]
    public async Task A_key_disappears_when_its_lease_expires()
    {
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(1));
        await _client.PutAsync(_prefix + "ephemeral", "x", lease);
        Assert.NotNull(await _client.GetAsync(_prefix + "ephemeral"));

        await Poll.UntilAsync(async () => await _client.GetAsync(_prefix + "ephemeral") is null, "the key of an expired lease to go");

        Assert.True(await _client.KeepAliveOnceAsync(lease) <= 0);
    }

    [Fact]
    public async Task Keepalive_keeps_a_short_lease_alive()
    {
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(3));
        await _client.PutAsync(_prefix + "alive", "x", lease);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);

        // renewing every 200 ms keeps a 3 s lease far from expiry even on a loaded machine, for longer than its TTL
        while (DateTime.UtcNow < until)
        {
            Assert.True(await _client.KeepAliveOnceAsync(lease) > 0);
            await Task.Delay(200);
        }

        Assert.NotNull(await _client.GetAsync(_prefix + "alive"));
        await _client.RevokeLeaseAsync(lease);
    }

    [Fact]
    public async Task Put_if_absent_succeeds_only_once()
    {
        Assert.True(await _client.PutIfAbsentAsync(_prefix + "leader", "node-1"));
        Assert.False(await _client.PutIfAbsentAsync(_prefix + "leader", "node-2"));

        Assert.Equal("node-1", (await _client.GetAsync(_prefix + "leader"))!.ValueText);
    }

    [Fact]
    public async Task Compare_and_swap_on_mod_revision()
    {
        var written = await _client.PutAsync(_prefix + "map", "epoch-1");

        var swap = await _client.TxnAsync(
            [EtcdCompare.ModRevisionEquals(_prefix + "map", written)],
            [EtcdOp.Put(_prefix + "map", "epoch-2"), EtcdOp.Get(_prefix + "map")]);
        var stale = await _client.TxnAsync(
            [EtcdCompare.ModRevisionEquals(_prefix + "map", written)],
            [EtcdOp.Put(_prefix + "map", "epoch-2-again")],
            [EtcdOp.Get(_prefix + "map")]);

        Assert.True(swap.Succeeded);
        Assert.True(swap.Revision > written);
        Assert.Equal([EtcdOpType.Put, EtcdOpType.Get], swap.Responses.Select(r => r.Type));
        var afterSwap = Assert.Single(swap.Responses[1].Items);
        Assert.Equal("epoch-2", afterSwap.ValueText);
        Assert.Equal(swap.Revision, afterSwap.ModRevision);

        Assert.False(stale.Succeeded);
        var current = Assert.Single(Assert.Single(stale.Responses).Items);
        Assert.Equal("epoch-2", current.ValueText);
        Assert.Equal(swap.Revision, stale.Revision);
    }

    [Fact]
    public async Task Transactions_compare_values_and_leases_and_delete()
    {
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(30));
        await _client.PutAsync(_prefix + "owner", "node-1", lease);
        await _client.PutAsync(_prefix + "data/1", "x");
        await _client.PutAsync(_prefix + "data/2", "y");

        var wrongValue = await _client.TxnAsync([EtcdCompare.ValueEquals(_prefix + "owner", "node-2")], [EtcdOp.Delete(_prefix + "owner")]);
        var wrongLease = await _client.TxnAsync([EtcdCompare.LeaseEquals(_prefix + "owner", lease + 1)], [EtcdOp.Delete(_prefix + "owner")]);
        var owned = await _client.TxnAsync(
            [EtcdCompare.ValueEquals(_prefix + "owner", "node-1"), EtcdCompare.LeaseEquals(_prefix + "owner", lease)],
            [EtcdOp.DeletePrefix(_prefix + "data/"), EtcdOp.GetPrefix(_prefix)]);

        Assert.False(wrongValue.Succeeded);
        Assert.Empty(wrongValue.Responses);
        Assert.False(wrongLease.Succeeded);
        Assert.True(owned.Succeeded);
        Assert.Equal(2, owned.Responses[0].Deleted);
        Assert.Equal([_prefix + "owner"], owned.Responses[1].Items.Select(kv => kv.Key));
        await _client.RevokeLeaseAsync(lease);
    }

    [Fact]
    public async Task Watch_streams_puts_and_deletes_in_order_including_those_before_the_call()
    {
        using var deadline = new CancellationTokenSource(Poll.DefaultDeadline);
        var start = await _client.PutAsync(_prefix + "m/a", "1");
        await _client.PutAsync(_prefix + "m/b", "2");
        await _client.DeleteAsync(_prefix + "m/a");
        await _client.PutAsync(_prefix + "other", "not watched");

        await using var watch = _client.WatchPrefixAsync(_prefix + "m/", start, deadline.Token).GetAsyncEnumerator(deadline.Token);
        var before = await TakeAsync(watch, 3);
        await _client.PutAsync(_prefix + "m/b", "3");
        await _client.DeletePrefixAsync(_prefix + "m/");
        var after = await TakeAsync(watch, 2);

        Assert.Equal(
            ["Put m/a 1", "Put m/b 2", "Delete m/a ", "Put m/b 3", "Delete m/b "],
            before.Concat(after).Select(e => $"{e.Type} {e.Kv.Key[_prefix.Length..]} {e.Kv.ValueText}"));
        var revisions = before.Concat(after).Select(e => e.Kv.ModRevision).ToList();
        Assert.Equal(start, revisions[0]);
        Assert.Equal(revisions.Order(), revisions);
        Assert.Equal(2, after[0].Kv.Version);
    }

    [Fact]
    public async Task A_key_watch_sees_only_that_key_and_starts_now_without_a_revision()
    {
        using var deadline = new CancellationTokenSource(Poll.DefaultDeadline);
        await _client.PutAsync(_prefix + "k", "old");
        await using var watch = _client.WatchKeyAsync(_prefix + "k", 0, deadline.Token).GetAsyncEnumerator(deadline.Token);
        var next = watch.MoveNextAsync().AsTask();

        // the watch is created asynchronously; keep writing until it reports a write made after its creation
        await Poll.UntilAsync(async () =>
        {
            await _client.PutAsync(_prefix + "k2", "neighbour");
            await _client.PutAsync(_prefix + "k", "new");
            return await Task.WhenAny(next, Task.Delay(100)) == next;
        }, "the key watch to report a put");

        Assert.True(await next);
        Assert.Equal(_prefix + "k", watch.Current.Kv.Key);
        Assert.Equal("new", watch.Current.Kv.ValueText);
    }

    [Fact]
    public async Task Watch_reads_event_batches_larger_than_its_buffer()
    {
        using var deadline = new CancellationTokenSource(Poll.DefaultDeadline);
        var big = new byte[200_000];
        Random.Shared.NextBytes(big);
        var start = await _client.PutAsync(_prefix + "big/1", big);
        await _client.PutAsync(_prefix + "big/2", big);

        await using var watch = _client.WatchPrefixAsync(_prefix + "big/", start, deadline.Token).GetAsyncEnumerator(deadline.Token);
        var events = await TakeAsync(watch, 2);

        Assert.All(events, e => Assert.Equal(big, e.Kv.Value));
    }

    [Fact]
    public async Task A_watch_through_a_callers_http_client_outlives_that_clients_timeout()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        using var client = new EtcdClient(_client.Endpoint, http);
        using var deadline = new CancellationTokenSource(Poll.DefaultDeadline);
        var start = await client.PutAsync(_prefix + "t", "1");
        await using var watch = client.WatchKeyAsync(_prefix + "t", start, deadline.Token).GetAsyncEnumerator(deadline.Token);
        Assert.Single(await TakeAsync(watch, 1));

        // the property under test is about elapsed time: the stream stays open past HttpClient.Timeout
        await Task.Delay(TimeSpan.FromSeconds(2));
        await client.PutAsync(_prefix + "t", "2");

        Assert.Equal("2", Assert.Single(await TakeAsync(watch, 1)).Kv.ValueText);
    }

    [Fact]
    public async Task Cancelling_a_watch_ends_it_with_OperationCanceledException()
    {
        using var cancel = new CancellationTokenSource();
        await using var watch = _client.WatchPrefixAsync(_prefix, 0, cancel.Token).GetAsyncEnumerator(cancel.Token);
        var next = watch.MoveNextAsync().AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next);
    }

    [Fact]
    public async Task Errors_carry_etcds_message()
    {
        var noKey = await Assert.ThrowsAsync<EtcdException>(() => _client.PutAsync("", "x"));
        Assert.Contains("key is not provided", noKey.Message, StringComparison.Ordinal);
        Assert.Equal(3, noKey.GrpcCode); // InvalidArgument
        Assert.Equal(400, noKey.HttpStatus);

        var noLease = await Assert.ThrowsAsync<EtcdException>(() => _client.PutAsync(_prefix + "x", "x", leaseId: 12345));
        Assert.Contains("requested lease not found", noLease.Message, StringComparison.Ordinal);
        Assert.Equal(5, noLease.GrpcCode); // NotFound

        var duplicate = await Assert.ThrowsAsync<EtcdException>(() =>
            _client.TxnAsync([], [EtcdOp.Put(_prefix + "d", "1"), EtcdOp.Put(_prefix + "d", "2")]));
        Assert.Contains("duplicate key", duplicate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lease_granted_twice_is_distinct()
    {
        var a = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(10));
        var b = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(10));

        Assert.NotEqual(a, b);
        Assert.True(a > 0 && b > 0);
        await _client.RevokeLeaseAsync(a);
        Assert.True(await _client.KeepAliveOnceAsync(b) > 0);
        await _client.RevokeLeaseAsync(b);
    }

    internal static async Task<List<EtcdWatchEvent>> TakeAsync(IAsyncEnumerator<EtcdWatchEvent> watch, int count)
    {
        var events = new List<EtcdWatchEvent>(count);
        while (events.Count < count)
        {
            Assert.True(await watch.MoveNextAsync(), "a watch never ends by itself");
            events.Add(watch.Current);
        }
        return events;
    }
}

/// <summary>Tests that stop, restart or compact etcd, each with its own server.</summary>
public sealed class EtcdOwnServerTests
{
    [Fact]
    public async Task Watching_compacted_history_throws_with_the_compact_revision()
    {
        // compaction is cluster-wide, so this test does not share a server
        await using var etcd = await EtcdServer.StartAsync();
        using var client = new EtcdClient(etcd.ClientUrl);
        using var deadline = new CancellationTokenSource(Poll.DefaultDeadline);
        var old = await client.PutAsync("/c/key", "1");
        var current = await client.PutAsync("/c/key", "2");
        await client.CompactAsync(current);

        await using var watch = client.WatchPrefixAsync("/c/", old, deadline.Token).GetAsyncEnumerator(deadline.Token);
        var error = await Assert.ThrowsAsync<EtcdCompactedException>(async () => await watch.MoveNextAsync());

        Assert.True(error.CompactRevision >= current);
    }

    [Fact]
    public async Task A_watch_ends_with_an_exception_when_etcd_stops()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = new EtcdClient(etcd.ClientUrl);
        using var deadline = new CancellationTokenSource(Poll.DefaultDeadline);
        var start = await client.PutAsync("/w/a", "1");
        await using var watch = client.WatchPrefixAsync("/w/", start, deadline.Token).GetAsyncEnumerator(deadline.Token);
        Assert.Single(await EtcdClientTests.TakeAsync(watch, 1));
        var next = watch.MoveNextAsync().AsTask();

        await etcd.StopAsync();

        var error = await Record.ExceptionAsync(() => next);
        Assert.False(deadline.IsCancellationRequested, "the watch should fail when etcd goes, not wait for the test deadline");
        Assert.True(error is HttpRequestException or IOException or EtcdException, $"unexpected {error}");
    }

    [Fact]
    public async Task Calls_fail_while_etcd_is_down_and_work_again_after_it_restarts()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = new EtcdClient(etcd.ClientUrl);
        var written = await client.PutAsync("/r/kept", "before");

        await etcd.StopAsync();
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/r/kept"));
        await etcd.StartAgainAsync();

        var kept = await client.GetAsync("/r/kept");
        Assert.Equal("before", kept!.ValueText);
        Assert.Equal(written, kept.ModRevision);

        // a watcher resuming from its last revision + 1 sees exactly what came after
        await client.PutAsync("/r/kept", "after");
        using var deadline = new CancellationTokenSource(Poll.DefaultDeadline);
        await using var watch = client.WatchKeyAsync("/r/kept", written + 1, deadline.Token).GetAsyncEnumerator(deadline.Token);
        var resumed = Assert.Single(await EtcdClientTests.TakeAsync(watch, 1));
        Assert.Equal("after", resumed.Kv.ValueText);
    }

    [Fact]
    public async Task Etcd_keeps_leases_across_a_restart()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = new EtcdClient(etcd.ClientUrl);
        var lease = await client.GrantLeaseAsync(TimeSpan.FromSeconds(60));
        await client.PutAsync("/l/member", "me", lease);

        await etcd.StopAsync();
        await etcd.StartAgainAsync();

        Assert.True(await client.KeepAliveOnceAsync(lease) > 0);
        Assert.Equal(lease, (await client.GetAsync("/l/member"))!.Lease);
    }
}
