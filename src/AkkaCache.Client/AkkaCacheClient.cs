using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AkkaCache.Client.Internal;
using AkkaCache.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaCache.Client;

/// <summary>
/// The AkkaCache cluster client. Connect once and share it: it holds one multiplexed, pipelined connection per node
/// (or <see cref="AkkaCacheClientOptions.ConnectionsPerNode"/>), routes every key to the node owning its slot, follows
/// -MOVED and -ASK, and retries what is safe to retry. Every call takes a CancellationToken and ends within the
/// operation timeout (<see cref="AkkaCacheClientOptions.OperationTimeout"/>, or per call through <see cref="WithTimeout"/>).
/// <code>
/// await using var cache = await AkkaCacheClient.ConnectAsync("127.0.0.1:7000,127.0.0.1:7001");
/// await cache.SetAsync("user:1", "alice", TimeSpan.FromMinutes(5));
/// string? name = await cache.GetStringAsync("user:1");
/// </code>
/// </summary>
public sealed partial class AkkaCacheClient : IAsyncDisposable, IDisposable
{
    private readonly ClientCore _core;
    private readonly TimeSpan _timeout;
    private readonly bool _ownsCore;
    private Subscriber? _subscriber;
    private readonly object _subscriberGate = new();

    private AkkaCacheClient(ClientCore core, TimeSpan timeout, bool ownsCore)
    {
        _core = core;
        _timeout = timeout;
        _ownsCore = ownsCore;
    }

    /// <summary>Connects with a configuration string: "host:port[,host:port...][,password=...][,timeout=ms]..." (see <see cref="AkkaCacheClientOptions.Parse"/>).</summary>
    public static Task<AkkaCacheClient> ConnectAsync(string configuration, CancellationToken cancellation = default) =>
        ConnectAsync(AkkaCacheClientOptions.Parse(configuration), null, null, cancellation);

    /// <summary>Connects: reads the slot map from the first seed that answers. Throws <see cref="AkkaCacheConnectionException"/> when none does.</summary>
    public static async Task<AkkaCacheClient> ConnectAsync(AkkaCacheClientOptions options, ILoggerFactory? loggers = null,
        System.Diagnostics.Metrics.IMeterFactory? meters = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var client = Create(options, loggers, meters);
        try
        {
            await client._core.ConnectAsync(cancellation).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A client that reads the slot map on its first call (what dependency injection registers).</summary>
    internal static AkkaCacheClient Create(AkkaCacheClientOptions options, ILoggerFactory? loggers, System.Diagnostics.Metrics.IMeterFactory? meters)
    {
        var logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger<AkkaCacheClient>();
        var core = new ClientCore(options.Clone(), logger, meters);
        return new AkkaCacheClient(core, options.OperationTimeout, ownsCore: true);
    }

    /// <summary>A view of this client whose calls time out after <paramref name="timeout"/>; it shares the connections (dispose only the original).</summary>
    public AkkaCacheClient WithTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be positive.");
        return new AkkaCacheClient(_core, timeout, ownsCore: false);
    }

    /// <summary>True when the nodes form a cluster (CLUSTER SLOTS answered), false for a standalone node.</summary>
    public bool IsClustered => _core.Map?.IsClustered ?? false;

    /// <summary>The primaries the slot map names now (host:port).</summary>
    public IReadOnlyList<string> Primaries => _core.Map?.Primaries().Select(n => n.EndPoint).ToList() ?? [];

    /// <summary>The node that owns <paramref name="key"/> now, as the client's slot map says.</summary>
    public string? OwnerOf(CacheKey key)
    {
        var bytes = key.Text is { } text ? Encoding.UTF8.GetBytes(text) : key.Bytes.ToArray();
        return _core.Map?[HashSlot.Of(bytes)]?.Primary.EndPoint;
    }

    /// <summary>Reads the slot map again now (it is also read after every -MOVED and periodically).</summary>
    public Task RefreshTopologyAsync() => _core.RequestRefresh();

    // ---- strings ----

    /// <summary>The value of <paramref name="key"/>, or null when there is none.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public ValueTask<byte[]?> GetAsync(CacheKey key, CancellationToken cancellation = default) =>
        _core.Near is { } near ? GetNearAsync(near, key, cancellation) : GetRemoteAsync(key, cancellation);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<byte[]?> GetRemoteAsync(CacheKey key, CancellationToken cancellation)
    {
        var operation = Operation.Rent("GET", OperationKind.Read, 2);
        operation.AddKey(key);
        var reply = await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false);
        return reply.IsNull ? null : Expect(reply, "GET", RespType.BulkString).Bytes;
    }

    private async ValueTask<byte[]?> GetNearAsync(NearCache near, CacheKey key, CancellationToken cancellation)
    {
        string nearKey = NearCache.KeyOf(key);
        if (near.TryGet(nearKey) is { } cached) return cached;
        long stamp = near.Stamp;
        var value = await GetRemoteAsync(key, cancellation).ConfigureAwait(false);
        if (value is not null) near.Store(nearKey, value, stamp);
        return value;
    }

    public async ValueTask<string?> GetStringAsync(CacheKey key, CancellationToken cancellation = default) =>
        await GetAsync(key, cancellation).ConfigureAwait(false) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>The value deserialized from JSON, or default when there is none.</summary>
    public async ValueTask<T?> GetJsonAsync<T>(CacheKey key, JsonSerializerOptions? json = null, CancellationToken cancellation = default) =>
        await GetAsync(key, cancellation).ConfigureAwait(false) is { } bytes ? JsonSerializer.Deserialize<T>(bytes, json) : default;

    /// <summary>Stores the value, with a time to live when <paramref name="ttl"/> is given (else it lives until deleted or evicted).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SetAsync(CacheKey key, CacheValue value, TimeSpan? ttl = null, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("SET", OperationKind.IdempotentWrite, ttl is null ? 3 : 5);
        operation.AddKey(key);
        operation.Add(value);
        if (ttl is { } time)
        {
            operation.Add("PX"u8);
            operation.Add(Milliseconds(time, nameof(ttl)));
        }
        Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "SET", RespType.SimpleString);
    }

    public ValueTask SetJsonAsync<T>(CacheKey key, T value, TimeSpan? ttl = null, JsonSerializerOptions? json = null, CancellationToken cancellation = default) =>
        SetAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, json), ttl, cancellation);

    /// <summary>Stores the value only if the key has none (SET NX); true when it was stored.</summary>
    public async ValueTask<bool> AddAsync(CacheKey key, CacheValue value, TimeSpan? ttl = null, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("SET", OperationKind.Write, ttl is null ? 4 : 6);
        operation.AddKey(key);
        operation.Add(value);
        operation.Add("NX"u8);
        if (ttl is { } time)
        {
            operation.Add("PX"u8);
            operation.Add(Milliseconds(time, nameof(ttl)));
        }
        var reply = await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false);
        return !reply.IsNull && Expect(reply, "SET", RespType.SimpleString).Type == RespType.SimpleString;
    }

    /// <summary>Deletes the key; true when it existed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> DeleteAsync(CacheKey key, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("DEL", OperationKind.IdempotentWrite, 2);
        operation.AddKey(key);
        return Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "DEL", RespType.Integer).Integer > 0;
    }

    public async ValueTask<bool> ExistsAsync(CacheKey key, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("EXISTS", OperationKind.Read, 2);
        operation.AddKey(key);
        return Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "EXISTS", RespType.Integer).Integer > 0;
    }

    /// <summary>Adds <paramref name="by"/> to the integer at the key (a missing key counts as 0) and returns the result. Never retried: it may have run.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<long> IncrementAsync(CacheKey key, long by = 1, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("INCRBY", OperationKind.Write, 3);
        operation.AddKey(key);
        operation.Add(by);
        return Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "INCRBY", RespType.Integer).Integer;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<long> DecrementAsync(CacheKey key, long by = 1, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("DECRBY", OperationKind.Write, 3);
        operation.AddKey(key);
        operation.Add(by);
        return Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "DECRBY", RespType.Integer).Integer;
    }

    /// <summary>The value and its version (AC.GETS), for <see cref="CompareAndSwapAsync"/>; null when the key has no value.</summary>
    public async ValueTask<VersionedValue?> GetWithVersionAsync(CacheKey key, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("AC.GETS", OperationKind.Read, 2);
        operation.AddKey(key);
        var reply = await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false);
        if (reply.IsNull) return null;
        var items = Expect(reply, "AC.GETS", RespType.Array).Value!.Items!;
        return new VersionedValue(items[0].Bytes ?? [], items[1].Integer);
    }

    /// <summary>
    /// Stores the value only if the key's version is still <paramref name="expectedVersion"/> (0: only if the key has
    /// no value), AC.CAS. True when stored; false when another write came first. Never retried: it may have run.
    /// </summary>
    public async ValueTask<bool> CompareAndSwapAsync(CacheKey key, long expectedVersion, CacheValue value, TimeSpan? ttl = null, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("AC.CAS", OperationKind.Write, ttl is null ? 4 : 6);
        operation.AddKey(key);
        operation.Add(expectedVersion);
        operation.Add(value);
        if (ttl is { } time)
        {
            operation.Add("PX"u8);
            operation.Add(Milliseconds(time, nameof(ttl)));
        }
        return Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "AC.CAS", RespType.Integer).Integer == 1;
    }

    /// <summary>Sets a time to live; false when the key does not exist.</summary>
    public async ValueTask<bool> ExpireAsync(CacheKey key, TimeSpan ttl, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("PEXPIRE", OperationKind.IdempotentWrite, 3);
        operation.AddKey(key);
        operation.Add(Milliseconds(ttl, nameof(ttl)));
        return Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "PEXPIRE", RespType.Integer).Integer == 1;
    }

    /// <summary>The time the key has left: null when it does not exist, <see cref="Timeout.InfiniteTimeSpan"/> when it never expires.</summary>
    public async ValueTask<TimeSpan?> TtlAsync(CacheKey key, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("PTTL", OperationKind.Read, 2);
        operation.AddKey(key);
        long ms = Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "PTTL", RespType.Integer).Integer;
        return ms switch
        {
            -2 => null,
            -1 => Timeout.InfiniteTimeSpan,
            _ => TimeSpan.FromMilliseconds(ms),
        };
    }

    /// <summary>The value, with its time to live set to <paramref name="ttl"/> in the same step (GETEX PX): how sliding expiration is refreshed.</summary>
    public async ValueTask<byte[]?> GetAndExpireAsync(CacheKey key, TimeSpan ttl, CancellationToken cancellation = default)
    {
        var operation = Operation.Rent("GETEX", OperationKind.IdempotentWrite, 4);
        operation.AddKey(key);
        operation.Add("PX"u8);
        operation.Add(Milliseconds(ttl, nameof(ttl)));
        var reply = await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false);
        return reply.IsNull ? null : Expect(reply, "GETEX", RespType.BulkString).Bytes;
    }

    /// <summary>Round trip to the node owning slot 0 (or the standalone node).</summary>
    public async ValueTask<TimeSpan> PingAsync(CancellationToken cancellation = default)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var operation = Operation.Rent("PING", OperationKind.Read, 1);
        Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "PING", RespType.SimpleString);
        return System.Diagnostics.Stopwatch.GetElapsedTime(start);
    }

    /// <summary>
    /// Any command, routed by its first key when <paramref name="keyIndex"/> names one (else to the node owning slot 0),
    /// and its reply as a tree. Error replies are thrown. Not retried after a lost connection.
    /// </summary>
    public async Task<RespValue> ExecuteAsync(string command, IReadOnlyList<string> arguments, int keyIndex = -1, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var operation = Operation.Rent(command, OperationKind.Write, arguments.Count + 1);
        for (int i = 0; i < arguments.Count; i++)
        {
            if (i == keyIndex) operation.AddKey(arguments[i]);
            else operation.Add(arguments[i]);
        }
        var reply = await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false);
        if (reply.IsError) throw new AkkaCacheServerException(command, reply.Text!);
        return reply.Value ?? reply.Type switch
        {
            RespType.SimpleString => RespValue.SimpleString(reply.Text ?? "OK"),
            RespType.Integer => RespValue.FromInteger(reply.Integer),
            RespType.BulkString => RespValue.BulkString(reply.Bytes!),
            _ => RespValue.Null,
        };
    }

    private static long Milliseconds(TimeSpan time, string name)
    {
        long ms = (long)Math.Ceiling(time.TotalMilliseconds);
        if (ms <= 0) throw new ArgumentOutOfRangeException(name, time, "A time to live must be positive.");
        return ms;
    }

    /// <summary>Turns an error reply into <see cref="AkkaCacheServerException"/> and an unexpected shape into <see cref="AkkaCacheException"/>.</summary>
    private static Reply Expect(in Reply reply, string command, RespType type)
    {
        if (reply.IsError) throw new AkkaCacheServerException(command, reply.Text!);
        if (reply.Type != type) throw new AkkaCacheException($"{command}: the node answered {reply.Type}, expected {type}.");
        return reply;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_ownsCore) return;
        Subscriber? subscriber;
        lock (_subscriberGate) subscriber = _subscriber;
        if (subscriber is not null) await subscriber.DisposeAsync().ConfigureAwait(false);
        await _core.DisposeAsync().ConfigureAwait(false);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
