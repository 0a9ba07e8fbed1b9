using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AkkaCache.Client.Internal;
using AkkaCache.Protocol;

namespace AkkaCache.Client;

/// <summary>How <see cref="AkkaCacheClient.GetOrCreateAsync(CacheKey, Func{CancellationToken, ValueTask{byte[]}}, TimeSpan, GetOrCreateOptions?, CancellationToken)"/> loads and stores.</summary>
public sealed class GetOrCreateOptions
{
    /// <summary>
    /// How long the node keeps other callers waiting for the one loading the value. Should exceed the factory's
    /// normal duration: past it, another caller gets a lease and loads too. Default 10 s.
    /// </summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Spreads expiries so keys filled together do not all expire together: the time to live becomes
    /// ttl × (1 ± a random fraction up to this). 0 (default) to 1 exclusive.
    /// </summary>
    public double TtlJitter { get; init; }

    /// <summary>
    /// Probabilistic early refresh (XFetch, Vattani et al.): a hit reloads the value before it expires with a
    /// probability that rises as expiry nears, so a hot key is refreshed by one caller instead of being missed by
    /// all. 0 (default) turns it off; 1 is the paper's choice, larger refreshes earlier.
    /// </summary>
    public double EarlyRefreshBeta { get; init; }

    /// <summary>XFetch's delta: about how long the factory takes. Default 100 ms.</summary>
    public TimeSpan ExpectedLoadTime { get; init; } = TimeSpan.FromMilliseconds(100);

    internal static GetOrCreateOptions Default { get; } = new();
}

public sealed partial class AkkaCacheClient
{
    private const int FirstWaitMs = 2;
    private const int LongestWaitMs = 50;

    /// <summary>
    /// The key's value, loaded with <paramref name="factory"/> and stored for <paramref name="ttl"/> on a miss, with
    /// one load per key across every client however many miss at once (AC.GETL / AC.SETL leases): the first caller
    /// to miss loads, the others poll the node with a short backoff until the value is there, within the call's
    /// timeout. The store is refused if the key was written or deleted while the factory ran, so a slow load never
    /// puts back data an invalidation removed; the loaded value is returned to its caller either way.
    /// If the factory throws, the exception reaches the caller that ran it and the lease is given back (AC.UNLEASE):
    /// one of the waiters gets the next lease and loads, so a failing backing store sees one load at a time, never a
    /// stampede. Should the give-back not arrive, the lease expires after <see cref="GetOrCreateOptions.LeaseDuration"/>.
    /// A node with <c>LeaseStale</c> on answers waiters with the value just deleted or expired; it is returned as is.
    /// </summary>
    public async ValueTask<byte[]> GetOrCreateAsync(CacheKey key, Func<CancellationToken, ValueTask<byte[]>> factory, TimeSpan ttl,
        GetOrCreateOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Milliseconds(ttl, nameof(ttl));
        options ??= GetOrCreateOptions.Default;
        if (options.TtlJitter is < 0 or >= 1 || double.IsNaN(options.TtlJitter))
            throw new ArgumentOutOfRangeException(nameof(options), options.TtlJitter, "TtlJitter must be in [0, 1).");
        long leaseMs = Milliseconds(options.LeaseDuration, nameof(options.LeaseDuration));
        bool meta = options.EarlyRefreshBeta > 0;
        long deadline = Stopwatch.GetTimestamp() + (long)(_timeout.TotalSeconds * Stopwatch.Frequency);
        int waitMs = FirstWaitMs;
        while (true)
        {
            var operation = Operation.Rent("AC.GETL", OperationKind.IdempotentWrite, meta ? 4 : 3);
            operation.AddKey(key);
            operation.Add(leaseMs);
            if (meta) operation.Add("META"u8);
            var reply = await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false);
            var items = Expect(reply, "AC.GETL", RespType.Array).Value!.Items!;
            string kind = Encoding.ASCII.GetString(items[0].Bytes ?? []);
            switch (kind)
            {
                case "HIT":
                    var value = items[1].Bytes ?? [];
                    if (meta && items.Count >= 4 && ShouldRefreshEarly(items[2].Integer, options))
                        return await RefreshAsync(key, items[3].Integer, factory, ttl, options, cancellation).ConfigureAwait(false);
                    return value;
                case "STALE":
                    // the node keeps stale values only when its operator turned LeaseStale on: served as they come
                    return items[1].Bytes ?? [];
                case "LEASE":
                    return await FillAsync(key, items[1].Integer, factory, ttl, options, cancellation).ConfigureAwait(false);
                case "WAIT":
                    if (Stopwatch.GetTimestamp() + waitMs * Stopwatch.Frequency / 1000 >= deadline)
                        throw new AkkaCacheTimeoutException($"AC.GETL timed out waiting for another caller to load '{key}'.");
                    // jittered so the waiters of one key do not poll in lockstep
                    await Task.Delay(waitMs / 2 + Random.Shared.Next(waitMs / 2 + 1), cancellation).ConfigureAwait(false);
                    waitMs = Math.Min(waitMs * 2, LongestWaitMs);
                    break;
                default:
                    throw new AkkaCacheException($"AC.GETL: unexpected reply '{kind}'.");
            }
        }
    }

    /// <summary>As <see cref="GetOrCreateAsync(CacheKey, Func{CancellationToken, ValueTask{byte[]}}, TimeSpan, GetOrCreateOptions?, CancellationToken)"/>, for UTF-8 text.</summary>
    public async ValueTask<string> GetOrCreateStringAsync(CacheKey key, Func<CancellationToken, ValueTask<string>> factory, TimeSpan ttl,
        GetOrCreateOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var bytes = await GetOrCreateAsync(key, async c => Encoding.UTF8.GetBytes(await factory(c).ConfigureAwait(false)), ttl, options, cancellation)
            .ConfigureAwait(false);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>As <see cref="GetOrCreateAsync(CacheKey, Func{CancellationToken, ValueTask{byte[]}}, TimeSpan, GetOrCreateOptions?, CancellationToken)"/>, stored as JSON.</summary>
    public async ValueTask<T?> GetOrCreateJsonAsync<T>(CacheKey key, Func<CancellationToken, ValueTask<T>> factory, TimeSpan ttl,
        GetOrCreateOptions? options = null, JsonSerializerOptions? json = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var bytes = await GetOrCreateAsync(key, async c => JsonSerializer.SerializeToUtf8Bytes(await factory(c).ConfigureAwait(false), json), ttl, options, cancellation)
            .ConfigureAwait(false);
        return JsonSerializer.Deserialize<T>(bytes, json);
    }

    private async ValueTask<byte[]> FillAsync(CacheKey key, long token, Func<CancellationToken, ValueTask<byte[]>> factory, TimeSpan ttl,
        GetOrCreateOptions options, CancellationToken cancellation)
    {
        byte[] value;
        try
        {
            value = await factory(cancellation).ConfigureAwait(false) ?? throw new InvalidOperationException("The factory returned null.");
        }
        catch
        {
            await UnleaseAsync(key, token).ConfigureAwait(false);
            throw;
        }
        // 0 (refused: the key was written meanwhile) needs nothing: the writer's value is the newer one
        await StoreIfAsync("AC.SETL", key, token, value, ttl, options, cancellation).ConfigureAwait(false);
        return value;
    }

    /// <summary>Best effort: the caller is to see the factory's exception, not this one's; the lease expires anyway.</summary>
    private async ValueTask UnleaseAsync(CacheKey key, long token)
    {
        try
        {
            var operation = Operation.Rent("AC.UNLEASE", OperationKind.IdempotentWrite, 3);
            operation.AddKey(key);
            operation.Add(token);
            await _core.ExecuteAsync(operation, _timeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is AkkaCacheException or TimeoutException or ObjectDisposedException)
        {
        }
    }

    /// <summary>An early refresh: stored with AC.CAS on the version read, so it replaces only the value it was decided on.</summary>
    private async ValueTask<byte[]> RefreshAsync(CacheKey key, long version, Func<CancellationToken, ValueTask<byte[]>> factory, TimeSpan ttl,
        GetOrCreateOptions options, CancellationToken cancellation)
    {
        var value = await factory(cancellation).ConfigureAwait(false) ?? throw new InvalidOperationException("The factory returned null.");
        await StoreIfAsync("AC.CAS", key, version, value, ttl, options, cancellation).ConfigureAwait(false);
        return value;
    }

    /// <summary>
    /// <c>AC.SETL key token value PX ms</c> or <c>AC.CAS key version value PX ms</c>: stores only if the lease token or the
    /// version still holds (1), else leaves the newer value (0); the TTL gets the options' jitter.
    /// </summary>
    private async ValueTask StoreIfAsync(string command, CacheKey key, long stamp, byte[] value, TimeSpan ttl, GetOrCreateOptions options,
        CancellationToken cancellation)
    {
        var operation = Operation.Rent(command, OperationKind.Write, 6);
        operation.AddKey(key);
        operation.Add(stamp);
        operation.Add(value);
        operation.Add("PX"u8);
        operation.Add(JitteredMs(ttl, options.TtlJitter));
        Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), command, RespType.Integer);
    }

    /// <summary>XFetch: refresh when -delta · beta · ln(U) reaches the time left (never for a key without expiry).</summary>
    internal static bool ShouldRefreshEarly(long remainingMs, GetOrCreateOptions options)
    {
        if (remainingMs < 0) return false;
        double u = 1.0 - Random.Shared.NextDouble(); // (0, 1]: ln stays finite
        return -options.ExpectedLoadTime.TotalMilliseconds * options.EarlyRefreshBeta * Math.Log(u) >= remainingMs;
    }

    internal static long JitteredMs(TimeSpan ttl, double jitter)
    {
        long ms = Milliseconds(ttl, nameof(ttl));
        if (jitter <= 0) return ms;
        double factor = 1 + (Random.Shared.NextDouble() * 2 - 1) * jitter;
        return Math.Max(1, (long)Math.Round(ms * factor));
    }
}
