using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using AkkaCache.Client.Tests.Infrastructure;
using AkkaCache.Protocol;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCache.Client.Tests;

/// <summary>
/// <see cref="AkkaCacheDistributedCache"/> against a real node. The node and the cache share one ManualClock, so
/// expirations are reached by advancing it, to the millisecond, never by waiting.
/// </summary>
public sealed class DistributedCacheTests : IAsyncLifetime
{
    private const string Prefix = "app1:";
    private static readonly TimeSpan Millisecond = TimeSpan.FromMilliseconds(1);

    private readonly ManualClock _clock = new();
    private StandaloneNode _node = null!;
    private AkkaCacheClient _client = null!;
    private AkkaCacheDistributedCache _cache = null!;
    private RespTestClient _raw = null!;

    public async Task InitializeAsync()
    {
        _node = await StandaloneNode.StartAsync(time: _clock);
        _client = await AkkaCacheClient.ConnectAsync(_node.EndPoint);
        _cache = new AkkaCacheDistributedCache(_client, Prefix, _clock);
        _raw = await _node.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _raw.DisposeAsync();
        await _cache.DisposeAsync();
        await _client.DisposeAsync();
        await _node.DisposeAsync();
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The key's TTL on the node in ms (-1: none, -2: no key), as PTTL answers.</summary>
    private async Task<long> NodeTtlAsync(string key) => (await _raw.SendAsync("PTTL", Prefix + key)).Integer;

    [Fact]
    public async Task Values_round_trip_sync_and_async_and_a_miss_is_null()
    {
        IDistributedCache cache = _cache;
        var options = new DistributedCacheEntryOptions();

        cache.Set("sync", Bytes("one"), options);
        Assert.Equal(Bytes("one"), cache.Get("sync"));
        Assert.Equal(Bytes("one"), await cache.GetAsync("sync"));

        await cache.SetAsync("async", Bytes("two"), options);
        Assert.Equal(Bytes("two"), await cache.GetAsync("async"));
        Assert.Equal(Bytes("two"), cache.Get("async"));

        // empty and binary data, headers and CRLF inside included
        await cache.SetAsync("empty", [], options);
        Assert.Equal(Array.Empty<byte>(), await cache.GetAsync("empty"));
        byte[] binary = [.. Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7))];
        cache.Set("binary", binary, options);
        Assert.Equal(binary, await cache.GetAsync("binary"));

        Assert.Null(cache.Get("missing"));
        Assert.Null(await cache.GetAsync("missing"));

        // an overwrite replaces data and options
        await cache.SetAsync("sync", Bytes("three"), options);
        Assert.Equal(Bytes("three"), cache.Get("sync"));
    }

    [Fact]
    public async Task The_buffer_members_write_segments_in_and_read_into_a_buffer_writer()
    {
        IBufferDistributedCache cache = _cache;
        var options = new DistributedCacheEntryOptions();
        var value = Segments(Bytes("hello, "), Bytes("segmented "), Bytes("world"));

        await cache.SetAsync("seq", value, options);
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(await cache.TryGetAsync("seq", writer));
        Assert.Equal("hello, segmented world", Encoding.UTF8.GetString(writer.WrittenSpan));

        cache.Set("seq-sync", new ReadOnlySequence<byte>(Bytes("sync")), options);
        writer.Clear();
        Assert.True(cache.TryGet("seq-sync", writer));
        Assert.Equal("sync", Encoding.UTF8.GetString(writer.WrittenSpan));

        writer.Clear();
        Assert.False(cache.TryGet("missing", writer));
        Assert.False(await cache.TryGetAsync("missing", writer));
        Assert.Equal(0, writer.WrittenCount);

        // what went in as a sequence comes out of the byte[] members too
        Assert.Equal(Bytes("hello, segmented world"), await cache.GetAsync("seq"));
    }

    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        var first = new Segment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1)) last = last.Append(part);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    [Fact]
    public async Task An_entry_without_expiration_has_no_ttl_on_the_node()
    {
        await _cache.SetAsync("forever", Bytes("v"), new DistributedCacheEntryOptions());
        Assert.Equal(-1, await NodeTtlAsync("forever"));
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(Bytes("v"), await _cache.GetAsync("forever"));
    }

    [Fact]
    public async Task Absolute_expiration_relative_to_now_expires_to_the_millisecond()
    {
        await _cache.SetAsync("rel", Bytes("v"), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        Assert.Equal(600_000, await NodeTtlAsync("rel"));

        _clock.Advance(TimeSpan.FromMinutes(10) - Millisecond);
        Assert.Equal(Bytes("v"), await _cache.GetAsync("rel"));
        // reads and refreshes do not move an absolute expiration
        await _cache.RefreshAsync("rel");
        Assert.Equal(1, await NodeTtlAsync("rel"));

        _clock.Advance(Millisecond);
        Assert.Null(await _cache.GetAsync("rel"));
        Assert.Null(_cache.Get("rel"));
        Assert.Equal(-2, await NodeTtlAsync("rel"));
    }

    [Fact]
    public async Task Absolute_expiration_at_a_point_in_time()
    {
        var at = _clock.GetUtcNow() + TimeSpan.FromHours(1);
        _cache.Set("abs", Bytes("v"), new DistributedCacheEntryOptions { AbsoluteExpiration = at });
        Assert.Equal(3_600_000, await NodeTtlAsync("abs"));

        _clock.Advance(TimeSpan.FromHours(1) - Millisecond);
        Assert.Equal(Bytes("v"), _cache.Get("abs"));
        _clock.Advance(Millisecond);
        Assert.Null(_cache.Get("abs"));
    }

    [Fact]
    public async Task An_absolute_expiration_not_in_the_future_is_refused_and_nothing_is_stored()
    {
        var now = _clock.GetUtcNow();
        foreach (var at in new[] { now - TimeSpan.FromSeconds(1), now })
        {
            var options = new DistributedCacheEntryOptions { AbsoluteExpiration = at };
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => _cache.Set("past", Bytes("v"), options));
            Assert.Equal(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), error.ParamName);
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _cache.SetAsync("past", Bytes("v"), options));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _cache.SetAsync("past", new ReadOnlySequence<byte>(Bytes("v")), options).AsTask());
        }
        Assert.Equal(-2, await NodeTtlAsync("past"));
    }

    [Fact]
    public async Task Sliding_expiration_is_kept_alive_by_reads_and_expires_when_untouched()
    {
        var window = TimeSpan.FromMinutes(10);
        await _cache.SetAsync("slide", Bytes("v"), new DistributedCacheEntryOptions { SlidingExpiration = window });
        Assert.Equal(600_000, await NodeTtlAsync("slide"));

        // three reads nine minutes apart keep it alive well past one window
        for (int i = 0; i < 3; i++)
        {
            _clock.Advance(TimeSpan.FromMinutes(9));
            Assert.Equal(Bytes("v"), i % 2 == 0 ? await _cache.GetAsync("slide") : _cache.Get("slide"));
            Assert.Equal(600_000, await NodeTtlAsync("slide"));
        }
        var writer = new ArrayBufferWriter<byte>();
        _clock.Advance(TimeSpan.FromMinutes(9));
        Assert.True(await _cache.TryGetAsync("slide", writer));
        Assert.Equal(600_000, await NodeTtlAsync("slide"));

        _clock.Advance(window - Millisecond);
        Assert.Equal(1, await NodeTtlAsync("slide"));
        _clock.Advance(Millisecond);
        Assert.Null(await _cache.GetAsync("slide"));
    }

    [Fact]
    public async Task Sliding_expiration_is_kept_alive_by_refresh()
    {
        await _cache.SetAsync("slide", Bytes("v"), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(30) });

        _clock.Advance(TimeSpan.FromSeconds(29));
        await _cache.RefreshAsync("slide");
        Assert.Equal(30_000, await NodeTtlAsync("slide"));
        _clock.Advance(TimeSpan.FromSeconds(29));
        _cache.Refresh("slide");
        Assert.Equal(30_000, await NodeTtlAsync("slide"));
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(Bytes("v"), await _cache.GetAsync("slide"));

        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(await _cache.GetAsync("slide"));
        // refreshing what is gone is no error, and brings nothing back
        await _cache.RefreshAsync("slide");
        _cache.Refresh("never-set");
        Assert.Equal(-2, await NodeTtlAsync("slide"));
    }

    [Fact]
    public async Task Sliding_expiration_never_outlives_the_absolute_one()
    {
        var options = new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromMinutes(10),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(25),
        };
        await _cache.SetAsync("capped", Bytes("v"), options);
        Assert.Equal(600_000, await NodeTtlAsync("capped"));

        _clock.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await _cache.GetAsync("capped"));
        Assert.Equal(600_000, await NodeTtlAsync("capped"));

        // at 18 min the window would reach 28: the absolute expiration at 25 cuts it
        _clock.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await _cache.GetAsync("capped"));
        Assert.Equal(420_000, await NodeTtlAsync("capped"));

        _clock.Advance(TimeSpan.FromMinutes(7) - Millisecond);
        await _cache.RefreshAsync("capped");
        Assert.Equal(1, await NodeTtlAsync("capped"));
        Assert.NotNull(_cache.Get("capped"));

        _clock.Advance(Millisecond);
        Assert.Null(await _cache.GetAsync("capped"));

        // a window longer than the whole lifetime: the first TTL is already the absolute one
        await _cache.SetAsync("short-life", Bytes("v"), new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromHours(1),
            AbsoluteExpiration = _clock.GetUtcNow() + TimeSpan.FromMinutes(5),
        });
        Assert.Equal(300_000, await NodeTtlAsync("short-life"));
    }

    [Fact]
    public async Task Setting_again_replaces_the_expiration()
    {
        await _cache.SetAsync("k", Bytes("1"), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
        Assert.Equal(60_000, await NodeTtlAsync("k"));
        await _cache.SetAsync("k", Bytes("2"), new DistributedCacheEntryOptions());
        Assert.Equal(-1, await NodeTtlAsync("k"));
        // no longer sliding: a read leaves the key without TTL
        Assert.Equal(Bytes("2"), await _cache.GetAsync("k"));
        Assert.Equal(-1, await NodeTtlAsync("k"));
    }

    [Fact]
    public async Task Remove_deletes_and_removing_what_is_missing_is_no_error()
    {
        var options = new DistributedCacheEntryOptions();
        await _cache.SetAsync("a", Bytes("v"), options);
        _cache.Set("b", Bytes("v"), options);

        await _cache.RemoveAsync("a");
        _cache.Remove("b");
        Assert.Null(await _cache.GetAsync("a"));
        Assert.Null(_cache.Get("b"));

        await _cache.RemoveAsync("a");
        _cache.Remove("never-set");
    }

    [Fact]
    public async Task The_instance_name_prefixes_the_key_on_the_node_and_separates_caches()
    {
        await _cache.SetAsync("user:1", Bytes("alice"), new DistributedCacheEntryOptions());

        var keys = (await _raw.SendAsync("KEYS", "*")).Items!.Select(k => k.AsString()).ToList();
        Assert.Equal(["app1:user:1"], keys);

        // the stored value is the header (format 1, no absolute, no sliding) then the data
        var stored = (await _raw.SendAsync("GET", "app1:user:1")).Bytes!;
        Assert.Equal([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, .. Bytes("alice")], stored);

        var other = new AkkaCacheDistributedCache(_client, "app2:", _clock);
        Assert.Null(await other.GetAsync("user:1"));
        var unprefixed = new AkkaCacheDistributedCache(_client, time: _clock);
        Assert.Null(await unprefixed.GetAsync("user:1"));
        Assert.Equal(Bytes("alice"), await unprefixed.GetAsync("app1:user:1"));
        Assert.Equal("", unprefixed.InstanceName);
    }

    [Fact]
    public async Task The_header_carries_the_expirations_as_unix_milliseconds()
    {
        var absolute = _clock.GetUtcNow() + TimeSpan.FromMinutes(20);
        await _cache.SetAsync("h", Bytes("x"), new DistributedCacheEntryOptions { AbsoluteExpiration = absolute, SlidingExpiration = TimeSpan.FromSeconds(90) });
        var stored = (await _raw.SendAsync("GET", "app1:h")).Bytes!;
        Assert.Equal(1 + 8 + 8 + 1, stored.Length);
        Assert.Equal(1, stored[0]);
        Assert.Equal(absolute.ToUnixTimeMilliseconds(), BitConverter.ToInt64(stored, 1));
        Assert.Equal(90_000, BitConverter.ToInt64(stored, 9));
    }

    [Fact]
    public async Task A_value_not_written_by_the_distributed_cache_is_reported_not_misread()
    {
        await _raw.SendAsync("SET", "app1:foreign", "plain text written by someone else");
        await _raw.SendAsync("SET", "app1:short", "ab");
        var error = await Assert.ThrowsAsync<AkkaCacheException>(() => _cache.GetAsync("foreign"));
        Assert.Contains("app1:foreign", error.Message);
        await Assert.ThrowsAsync<AkkaCacheException>(() => _cache.GetAsync("short"));
        await Assert.ThrowsAsync<AkkaCacheException>(() => _cache.RefreshAsync("short"));
    }

    [Fact]
    public async Task Cancellation_tokens_reach_the_client()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var options = new DistributedCacheEntryOptions();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _cache.GetAsync("k", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _cache.SetAsync("k", Bytes("v"), options, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _cache.RefreshAsync("k", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _cache.RemoveAsync("k", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _cache.TryGetAsync("k", new ArrayBufferWriter<byte>(), cancelled.Token).AsTask());
        Assert.Equal(-2, await NodeTtlAsync("k"));
    }

    [Fact]
    public async Task Arguments_are_checked()
    {
        var options = new DistributedCacheEntryOptions();
        Assert.Throws<ArgumentNullException>(() => _cache.Get(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => _cache.GetAsync(null!));
        Assert.Throws<ArgumentNullException>(() => _cache.Set("k", null!, options));
        Assert.Throws<ArgumentNullException>(() => _cache.Set("k", Bytes("v"), null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => _cache.SetAsync("k", Bytes("v"), null!));
        Assert.Throws<ArgumentNullException>(() => _cache.TryGet("k", null!));
        Assert.Throws<ArgumentNullException>(() => new AkkaCacheDistributedCache(null!));
    }

    [Fact]
    public async Task Sync_members_do_not_deadlock_on_a_blocked_single_threaded_context()
    {
        // a client that has not connected yet: its first call reads the slot map, the path with the most continuations
        await using var fresh = AkkaCacheClient.Create(AkkaCacheClientOptions.Parse(_node.EndPoint), null, null);
        var cache = new AkkaCacheDistributedCache(fresh, Prefix, _clock);
        byte[]? read = null;
        var writer = new ArrayBufferWriter<byte>();
        var context = await BlockedThreadContext.RunAsync(() =>
        {
            cache.Set("ui", Bytes("v"), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
            read = cache.Get("ui");
            cache.Refresh("ui");
            cache.TryGet("ui", writer);
            cache.Set("ui-seq", new ReadOnlySequence<byte>(Bytes("w")), new DistributedCacheEntryOptions());
            cache.Remove("ui");
            Assert.IsType<BlockedThreadContext>(SynchronizationContext.Current);
        }, TimeSpan.FromSeconds(30));
        Assert.Equal(Bytes("v"), read);
        Assert.Equal(Bytes("v"), writer.WrittenSpan.ToArray());
        Assert.Equal(0, context.Posts);
        Assert.Null(await cache.GetAsync("ui"));
    }

    [Fact]
    public async Task A_read_is_one_command_a_sliding_read_two_and_a_refresh_reads_only_the_header()
    {
        // a client whose meter comes from its own factory, so that other tests' calls are not counted
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var commands = new ConcurrentQueue<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Name == "akkacache.client.operations") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "command") commands.Enqueue((string)tag.Value!);
        });
        listener.Start();
        await using var client = await AkkaCacheClient.ConnectAsync(AkkaCacheClientOptions.Parse(_node.EndPoint), null, meters);
        var cache = new AkkaCacheDistributedCache(client, Prefix, _clock);
        await cache.SetAsync("plain", Bytes("v"), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) });
        await cache.SetAsync("sliding", Bytes("v"), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });

        async Task<string[]> CommandsOf(Func<Task> call)
        {
            commands.Clear();
            await call();
            return [.. commands];
        }

        Assert.Equal(["GET"], await CommandsOf(() => cache.GetAsync("plain")));
        Assert.Equal(["GET"], await CommandsOf(() => cache.GetAsync("missing")));
        Assert.Equal(["GET", "PEXPIRE"], await CommandsOf(() => cache.GetAsync("sliding")));
        Assert.Equal(["GETRANGE", "PEXPIRE"], await CommandsOf(() => cache.RefreshAsync("sliding")));
        Assert.Equal(["GETRANGE"], await CommandsOf(() => cache.RefreshAsync("plain")));
        Assert.Equal(["SET"], await CommandsOf(() => cache.SetAsync("plain", Bytes("w"), new DistributedCacheEntryOptions())));
        Assert.Equal(["DEL"], await CommandsOf(() => cache.RemoveAsync("plain")));
    }

    [Fact]
    public async Task A_cache_that_owns_its_client_disposes_it_and_one_that_does_not_leaves_it()
    {
        var borrowed = new AkkaCacheDistributedCache(_client, Prefix, _clock);
        await borrowed.DisposeAsync();
        borrowed.Dispose();
        await _client.SetAsync("still", "usable");

        var ownClient = AkkaCacheClient.Create(AkkaCacheClientOptions.Parse(_node.EndPoint), null, null);
        var owning = new AkkaCacheDistributedCache(ownClient, ownsClient: true, Prefix, _clock);
        await owning.SetAsync("k", Bytes("v"), new DistributedCacheEntryOptions());
        owning.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ownClient.GetAsync("x"));
    }
}
