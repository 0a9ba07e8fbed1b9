using System.Buffers;
using AkkaCache.Client.Internal;
using Microsoft.Extensions.Caching.Distributed;

namespace AkkaCache.Client;

/// <summary>
/// <see cref="IDistributedCache"/> (and <see cref="IBufferDistributedCache"/>, which HybridCache prefers) over an
/// <see cref="AkkaCacheClient"/>. Each entry is one string key: <see cref="AkkaCacheDistributedCacheOptions.InstanceName"/>
/// + key, whose value is a 17-byte header (format version, absolute expiry, sliding window) followed by the data, and whose
/// TTL on the node is the sliding window cut short by the absolute expiry, so the node drops an entry as soon as it may.
/// A read of a sliding entry gives the key its TTL again; so does <see cref="Refresh"/>.
/// </summary>
/// <remarks>
/// Reads of entries without sliding expiration take one round trip; reads of sliding entries take two (GET, then PEXPIRE),
/// because the window is only known once the header is read. The synchronous members block on the asynchronous ones
/// with the caller's SynchronizationContext set aside, so they do not deadlock on a UI or legacy ASP.NET thread.
/// </remarks>
public sealed class AkkaCacheDistributedCache : IBufferDistributedCache, IAsyncDisposable, IDisposable
{
    private readonly AkkaCacheClient _client;
    private readonly bool _ownsClient;
    private readonly string _prefix;
    private readonly TimeProvider _time;
    private int _disposed;

    /// <summary>A cache over <paramref name="client"/>, which stays the caller's to dispose.</summary>
    /// <param name="client">The connected (or lazily connecting) client.</param>
    /// <param name="instanceName">Prefix of every key; null for none.</param>
    /// <param name="time">The clock expirations are computed with; <see cref="TimeProvider.System"/> when null.</param>
    public AkkaCacheDistributedCache(AkkaCacheClient client, string? instanceName = null, TimeProvider? time = null)
        : this(client, ownsClient: false, instanceName, time)
    {
    }

    internal AkkaCacheDistributedCache(AkkaCacheClient client, bool ownsClient, string? instanceName, TimeProvider? time)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _ownsClient = ownsClient;
        _prefix = instanceName ?? "";
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The prefix put before every key.</summary>
    public string InstanceName => _prefix;

    internal AkkaCacheClient Client => _client;

    // ---- IDistributedCache ----

    /// <summary>The entry's data, or null when there is none; slides a sliding entry's expiration.</summary>
    public byte[]? Get(string key)
    {
        using var _ = new WithoutSynchronizationContext();
        return Wait(ReadAsync(key, CancellationToken.None)) is { } stored ? Data(stored) : null;
    }

    /// <summary>The entry's data, or null when there is none; slides a sliding entry's expiration.</summary>
    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default) =>
        await ReadAsync(key, token).ConfigureAwait(false) is { } stored ? Data(stored) : null;

    /// <summary>Stores the entry with the expirations <paramref name="options"/> give (none: it stays until removed or evicted).</summary>
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var _ = new WithoutSynchronizationContext();
        Wait(WriteAsync(key, new ReadOnlySequence<byte>(value), options, CancellationToken.None));
    }

    /// <summary>Stores the entry with the expirations <paramref name="options"/> give (none: it stays until removed or evicted).</summary>
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return WriteAsync(key, new ReadOnlySequence<byte>(value), options, token).AsTask();
    }

    /// <summary>Gives a sliding entry its full window again (never past its absolute expiration); nothing for other entries.</summary>
    public void Refresh(string key)
    {
        using var _ = new WithoutSynchronizationContext();
        Wait(RefreshCoreAsync(key, CancellationToken.None));
    }

    /// <summary>Gives a sliding entry its full window again (never past its absolute expiration); nothing for other entries.</summary>
    public Task RefreshAsync(string key, CancellationToken token = default) => RefreshCoreAsync(key, token).AsTask();

    /// <summary>Removes the entry, if there is one.</summary>
    public void Remove(string key)
    {
        using var _ = new WithoutSynchronizationContext();
        Wait(RemoveCoreAsync(key, CancellationToken.None));
    }

    /// <summary>Removes the entry, if there is one.</summary>
    public Task RemoveAsync(string key, CancellationToken token = default) => RemoveCoreAsync(key, token).AsTask();

    // ---- IBufferDistributedCache ----

    /// <summary>Writes the entry's data to <paramref name="destination"/>; false when there is none. Slides like <see cref="Get"/>.</summary>
    public bool TryGet(string key, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var _ = new WithoutSynchronizationContext();
        return CopyTo(Wait(ReadAsync(key, CancellationToken.None)), destination);
    }

    /// <summary>Writes the entry's data to <paramref name="destination"/>; false when there is none. Slides like <see cref="GetAsync"/>.</summary>
    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return CopyTo(await ReadAsync(key, token).ConfigureAwait(false), destination);
    }

    /// <summary>Stores <paramref name="value"/>, copied once, straight into the request.</summary>
    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options)
    {
        using var _ = new WithoutSynchronizationContext();
        Wait(WriteAsync(key, value, options, CancellationToken.None));
    }

    /// <summary>Stores <paramref name="value"/>, copied once, straight into the request.</summary>
    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        WriteAsync(key, value, options, token);

    // ---- the work ----

    /// <summary>The stored value (header included), or null for a miss; a sliding entry's TTL is set again before it returns.</summary>
    private async ValueTask<byte[]?> ReadAsync(string key, CancellationToken token)
    {
        var fullKey = FullKey(key);
        var stored = await _client.GetAsync(fullKey, token).ConfigureAwait(false);
        if (stored is null) return null;
        var header = EntryHeader.Read(stored, fullKey);
        long now = NowMs;
        // the node drops the key at the same instant by its own clock; a client clock ahead of it must not see it longer
        if (header.IsExpiredAt(now)) return null;
        if (header.SlidingMs > 0) await SlideAsync(fullKey, header, now, token).ConfigureAwait(false);
        return stored;
    }

    private async ValueTask RefreshCoreAsync(string key, CancellationToken token)
    {
        var fullKey = FullKey(key);
        // the header alone: refreshing must not move the data over the network
        var stored = await _client.GetRangeAsync(fullKey, 0, EntryHeader.Size - 1, token).ConfigureAwait(false);
        if (stored.Length == 0) return;
        var header = EntryHeader.Read(stored, fullKey);
        long now = NowMs;
        if (header.SlidingMs > 0 && !header.IsExpiredAt(now)) await SlideAsync(fullKey, header, now, token).ConfigureAwait(false);
    }

    private async ValueTask SlideAsync(string fullKey, EntryHeader header, long now, CancellationToken token)
    {
        if (header.TtlAt(now) is > 0 and var ttl)
            await _client.ExpireAsync(fullKey, TimeSpan.FromMilliseconds(ttl), token).ConfigureAwait(false);
    }

    private ValueTask WriteAsync(string key, in ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(options);
        var fullKey = FullKey(key);
        token.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        long nowMs = now.ToUnixTimeMilliseconds();
        long absoluteMs = 0;
        if (options.AbsoluteExpirationRelativeToNow is { } relative)
            absoluteMs = (now + relative).ToUnixTimeMilliseconds();
        else if (options.AbsoluteExpiration is { } absolute)
        {
            if (absolute <= now)
                throw new ArgumentOutOfRangeException(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), absolute, "The absolute expiration value must be in the future.");
            absoluteMs = absolute.ToUnixTimeMilliseconds();
        }
        // an expiry less than a millisecond away would round to now, which the node reads as already expired
        if (absoluteMs != 0 && absoluteMs <= nowMs) absoluteMs = nowMs + 1;
        long slidingMs = options.SlidingExpiration is { } sliding ? Math.Max(1, (long)Math.Ceiling(sliding.TotalMilliseconds)) : 0;
        var header = new EntryHeader(absoluteMs, slidingMs);
        Span<byte> bytes = stackalloc byte[EntryHeader.Size];
        header.Write(bytes);
        TimeSpan? ttl = header.TtlAt(nowMs) is { } ms ? TimeSpan.FromMilliseconds(ms) : null;
        return _client.SetJoinedAsync(fullKey, bytes, value, ttl, token);
    }

    private async ValueTask RemoveCoreAsync(string key, CancellationToken token) =>
        await _client.DeleteAsync(FullKey(key), token).ConfigureAwait(false);

    private string FullKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _prefix.Length == 0 ? key : string.Concat(_prefix, key);
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static byte[] Data(byte[] stored) => stored.AsSpan(EntryHeader.Size).ToArray();

    private static bool CopyTo(byte[]? stored, IBufferWriter<byte> destination)
    {
        if (stored is null) return false;
        destination.Write(stored.AsSpan(EntryHeader.Size));
        return true;
    }

    private static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    private static void Wait(ValueTask task)
    {
        // a completed ValueTask is still consumed, so that a pooled source behind it is released
        if (task.IsCompletedSuccessfully) task.GetAwaiter().GetResult();
        else task.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Starts the asynchronous work with no SynchronizationContext, so that no continuation in it (the client's own,
    /// or the socket's) is posted to a context whose only thread is the one blocked waiting for it.
    /// </summary>
    private readonly ref struct WithoutSynchronizationContext
    {
        private readonly SynchronizationContext? _saved;

        public WithoutSynchronizationContext()
        {
            _saved = SynchronizationContext.Current;
            if (_saved is not null) SynchronizationContext.SetSynchronizationContext(null);
        }

        public void Dispose()
        {
            if (_saved is not null) SynchronizationContext.SetSynchronizationContext(_saved);
        }
    }

    /// <summary>Disposes the client when the cache made it (from <see cref="AkkaCacheDistributedCacheOptions.Configuration"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_ownsClient) await _client.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Disposes the client when the cache made it (from <see cref="AkkaCacheDistributedCacheOptions.Configuration"/>).</summary>
    public void Dispose()
    {
        using var _ = new WithoutSynchronizationContext();
        DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
