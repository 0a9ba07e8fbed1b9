using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace AkkaCache.Cluster.Etcd;

/// <summary>
/// The etcd v3 calls the control plane needs, over etcd's JSON/HTTP gateway (no gRPC package reaches these machines).
/// Thread-safe and stateless apart from the connection pool: one instance per endpoint serves the whole node.
/// </summary>
/// <remarks>
/// Failures are never swallowed: etcd's refusals become <see cref="EtcdException"/>, an unreachable etcd surfaces as
/// <see cref="HttpRequestException"/>, a call that outlives <see cref="DefaultRequestTimeout"/> as <see cref="TaskCanceledException"/>.
/// </remarks>
public sealed class EtcdClient : IDisposable
{
    /// <summary>Bounds each unary call of a client that made its own HttpClient, so a hung etcd cannot stall a lease renewal forever.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    private const int GrpcNotFound = 5;

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    private readonly Uri _endpoint;
    private readonly HttpClient _http;
    private readonly HttpClient _watchHttp;
    private readonly SocketsHttpHandler? _ownedHandler;

    /// <param name="endpoint">etcd's client URL, e.g. http://127.0.0.1:2379.</param>
    /// <param name="http">
    /// A caller-owned client, used for every call including watches (which read their response as it streams, so the client's
    /// Timeout only bounds the wait for the response headers). When null, the client makes and owns its own.
    /// </param>
    public EtcdClient(Uri endpoint, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        if (http is not null)
        {
            _http = http;
            _watchHttp = http;
            return;
        }
        _ownedHandler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // etcd may restart on the same address; a pooled connection to the old process must not linger
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(_ownedHandler, disposeHandler: false) { Timeout = DefaultRequestTimeout };
        // a watch lives as long as its caller wants it; only cancellation ends it
        _watchHttp = new HttpClient(_ownedHandler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri Endpoint => _endpoint;

    /// <summary>Grants a lease; etcd rounds the TTL up to whole seconds and to its minimum (2 s with default raft timings).</summary>
    /// <returns>The lease id.</returns>
    public async Task<long> GrantLeaseAsync(TimeSpan ttl, CancellationToken ct = default)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(ttl.TotalSeconds));
        var body = EtcdJson.Write(seconds, static (w, s) =>
        {
            w.WriteStartObject();
            EtcdJson.WriteInt64(w, "TTL", s);
            w.WriteEndObject();
        });
        using var doc = await PostAsync("v3/lease/grant", body, ct);
        var id = EtcdJson.Int64(doc.RootElement, "ID");
        if (id == 0) throw new EtcdException("etcd answered a lease grant without a lease id: " + doc.RootElement.GetRawText());
        return id;
    }

    /// <summary>Renews a lease once.</summary>
    /// <returns>The TTL in seconds etcd now gives the lease; 0 or less when the lease no longer exists.</returns>
    public async Task<long> KeepAliveOnceAsync(long leaseId, CancellationToken ct = default)
    {
        using var doc = await PostAsync("v3/lease/keepalive", LeaseBody(leaseId), ct);
        // a streaming endpoint: the answer is wrapped in "result", and an unknown lease comes back without a TTL
        return doc.RootElement.TryGetProperty("result", out var result) ? EtcdJson.Int64(result, "TTL") : 0;
    }

    /// <summary>How long a lease has left and was granted for, in seconds; null when the lease no longer exists.</summary>
    public async Task<(long Remaining, long Granted)?> LeaseTimeToLiveAsync(long leaseId, CancellationToken ct = default)
    {
        using var doc = await PostAsync("v3/lease/timetolive", LeaseBody(leaseId), ct);
        long remaining = EtcdJson.Int64(doc.RootElement, "TTL");
        // etcd answers an unknown lease with TTL -1
        return remaining < 0 ? null : (remaining, EtcdJson.Int64(doc.RootElement, "grantedTTL"));
    }

    /// <summary>Revokes a lease, deleting every key attached to it. A lease that no longer exists is not an error.</summary>
    public async Task RevokeLeaseAsync(long leaseId, CancellationToken ct = default)
    {
        try
        {
            using var doc = await PostAsync("v3/lease/revoke", LeaseBody(leaseId), ct);
        }
        catch (EtcdException e) when (e.GrpcCode == GrpcNotFound)
        {
        }
    }

    /// <returns>The store revision of the write.</returns>
    public async Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var body = EtcdJson.Write((key, value, leaseId), static (w, s) =>
        {
            w.WriteStartObject();
            WritePut(w, s.key, s.value.Span, s.leaseId);
            w.WriteEndObject();
        });
        using var doc = await PostAsync("v3/kv/put", body, ct);
        return EtcdJson.HeaderRevision(doc.RootElement);
    }

    /// <summary>Stores <paramref name="value"/> as UTF-8.</summary>
    public Task<long> PutAsync(string key, string value, long leaseId = 0, CancellationToken ct = default) =>
        PutAsync(key, Encoding.UTF8.GetBytes(value), leaseId, ct);

    public async Task<EtcdKeyValue?> GetAsync(string key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var body = EtcdJson.Write(key, static (w, k) =>
        {
            w.WriteStartObject();
            EtcdJson.WriteKey(w, k);
            w.WriteEndObject();
        });
        using var doc = await PostAsync("v3/kv/range", body, ct);
        var items = EtcdJson.KeyValues(doc.RootElement);
        return items.Count == 0 ? null : items[0];
    }

    /// <summary>Every key starting with <paramref name="prefix"/>, in key order, with the revision the read saw.</summary>
    public async Task<EtcdRange> GetPrefixAsync(string prefix, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var body = EtcdJson.Write(prefix, static (w, p) =>
        {
            w.WriteStartObject();
            EtcdJson.WritePrefix(w, p);
            w.WriteEndObject();
        });
        using var doc = await PostAsync("v3/kv/range", body, ct);
        return new EtcdRange(EtcdJson.KeyValues(doc.RootElement), EtcdJson.HeaderRevision(doc.RootElement));
    }

    /// <returns>How many keys were deleted (0 or 1).</returns>
    public Task<long> DeleteAsync(string key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return DeleteRangeAsync(EtcdJson.Write(key, static (w, k) =>
        {
            w.WriteStartObject();
            EtcdJson.WriteKey(w, k);
            w.WriteEndObject();
        }), ct);
    }

    /// <returns>How many keys were deleted.</returns>
    public Task<long> DeletePrefixAsync(string prefix, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return DeleteRangeAsync(EtcdJson.Write(prefix, static (w, p) =>
        {
            w.WriteStartObject();
            EtcdJson.WritePrefix(w, p);
            w.WriteEndObject();
        }), ct);
    }

    /// <summary>
    /// Runs <paramref name="success"/> when every comparison holds, otherwise <paramref name="failure"/>, atomically.
    /// etcd refuses a transaction that writes the same key twice.
    /// </summary>
    public async Task<EtcdTxnResult> TxnAsync(
        IReadOnlyList<EtcdCompare> compare,
        IReadOnlyList<EtcdOp> success,
        IReadOnlyList<EtcdOp>? failure = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(compare);
        ArgumentNullException.ThrowIfNull(success);
        var body = EtcdJson.Write((compare, success, failure), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteStartArray("compare");
            foreach (var c in s.compare) WriteCompare(w, c);
            w.WriteEndArray();
            WriteOps(w, "success", s.success);
            if (s.failure is not null) WriteOps(w, "failure", s.failure);
            w.WriteEndObject();
        });
        using var doc = await PostAsync("v3/kv/txn", body, ct);
        var root = doc.RootElement;
        var responses = new List<EtcdOpResponse>();
        if (root.TryGetProperty("responses", out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var op in array.EnumerateArray()) responses.Add(ReadOpResponse(op));
        }
        return new EtcdTxnResult(EtcdJson.Bool(root, "succeeded"), EtcdJson.HeaderRevision(root), responses);
    }

    /// <summary>Creates <paramref name="key"/> only if it does not exist.</summary>
    /// <returns>Whether this call created it.</returns>
    public async Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken ct = default)
    {
        var result = await TxnAsync([EtcdCompare.CreateRevisionEquals(key, 0)], [EtcdOp.Put(key, value, leaseId)], null, ct);
        return result.Succeeded;
    }

    public Task<bool> PutIfAbsentAsync(string key, string value, long leaseId = 0, CancellationToken ct = default) =>
        PutIfAbsentAsync(key, Encoding.UTF8.GetBytes(value), leaseId, ct);

    /// <summary>Discards the history before <paramref name="revision"/>; watches from an older revision then fail with <see cref="EtcdCompactedException"/>.</summary>
    public async Task CompactAsync(long revision, CancellationToken ct = default)
    {
        var body = EtcdJson.Write(revision, static (w, r) =>
        {
            w.WriteStartObject();
            EtcdJson.WriteInt64(w, "revision", r);
            w.WriteEndObject();
        });
        using var doc = await PostAsync("v3/kv/compaction", body, ct);
    }

    /// <summary>
    /// Streams every change to keys starting with <paramref name="prefix"/> from <paramref name="startRevision"/> on (0: from now),
    /// in revision order, including changes made before this call. Runs until <paramref name="ct"/> is cancelled
    /// (<see cref="OperationCanceledException"/>).
    /// </summary>
    /// <remarks>
    /// A broken stream throws (<see cref="HttpRequestException"/>, <see cref="IOException"/> or <see cref="EtcdException"/>); watch
    /// again from the last seen event's ModRevision + 1. <see cref="EtcdCompactedException"/> means that revision is gone.
    /// </remarks>
    public IAsyncEnumerable<EtcdWatchEvent> WatchPrefixAsync(string prefix, long startRevision, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return WatchAsync(WatchBody(prefix, prefix: true, startRevision), ct);
    }

    /// <summary>As <see cref="WatchPrefixAsync"/>, for the single key <paramref name="key"/>.</summary>
    public IAsyncEnumerable<EtcdWatchEvent> WatchKeyAsync(string key, long startRevision, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return WatchAsync(WatchBody(key, prefix: false, startRevision), ct);
    }

    public void Dispose()
    {
        if (_ownedHandler is null) return;
        _http.Dispose();
        _watchHttp.Dispose();
        _ownedHandler.Dispose();
    }

    private async IAsyncEnumerable<EtcdWatchEvent> WatchAsync(byte[] body, [EnumeratorCancellation] CancellationToken ct)
    {
        using var request = NewRequest("v3/watch", body);
        using var response = await _watchHttp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode) throw await ReadErrorAsync(response, ct);
        var stream = await response.Content.ReadAsStreamAsync(ct);
        await using (stream)
        {
            using var messages = new EtcdWatchStream(stream);
            while (true)
            {
                foreach (var e in await messages.ReadEventsAsync(ct)) yield return e;
            }
        }
    }

    private static byte[] WatchBody(string key, bool prefix, long startRevision) =>
        EtcdJson.Write((key, prefix, startRevision), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteStartObject("create_request");
            if (s.prefix) EtcdJson.WritePrefix(w, s.key);
            else EtcdJson.WriteKey(w, s.key);
            if (s.startRevision > 0) EtcdJson.WriteInt64(w, "start_revision", s.startRevision);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    private async Task<long> DeleteRangeAsync(byte[] body, CancellationToken ct)
    {
        using var doc = await PostAsync("v3/kv/deleterange", body, ct);
        return EtcdJson.Int64(doc.RootElement, "deleted");
    }

    private static byte[] LeaseBody(long leaseId) => EtcdJson.Write(leaseId, static (w, id) =>
    {
        w.WriteStartObject();
        EtcdJson.WriteInt64(w, "ID", id);
        w.WriteEndObject();
    });

    private static void WritePut(Utf8JsonWriter w, string key, ReadOnlySpan<byte> value, long leaseId)
    {
        EtcdJson.WriteKey(w, key);
        w.WriteBase64String("value", value);
        if (leaseId != 0) EtcdJson.WriteInt64(w, "lease", leaseId);
    }

    private static void WriteCompare(Utf8JsonWriter w, EtcdCompare compare)
    {
        w.WriteStartObject();
        EtcdJson.WriteKey(w, compare.Key);
        w.WriteString("target", EtcdJson.CompareTarget(compare.Target));
        w.WriteString("result", EtcdJson.CompareResult(compare.Result));
        var field = EtcdJson.CompareField(compare.Target);
        if (compare.Target == EtcdCompareTarget.Value) w.WriteBase64String(field, compare.Value.Span);
        else EtcdJson.WriteInt64(w, field, compare.Number);
        w.WriteEndObject();
    }

    private static void WriteOps(Utf8JsonWriter w, string name, IReadOnlyList<EtcdOp> ops)
    {
        w.WriteStartArray(name);
        foreach (var op in ops)
        {
            w.WriteStartObject();
            w.WriteStartObject(op.Type switch
            {
                EtcdOpType.Put => "request_put",
                EtcdOpType.Delete => "request_delete_range",
                _ => "request_range",
            });
            if (op.Type == EtcdOpType.Put) WritePut(w, op.Key, op.Value.Span, op.Lease);
            else if (op.IsPrefix) EtcdJson.WritePrefix(w, op.Key);
            else EtcdJson.WriteKey(w, op.Key);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static EtcdOpResponse ReadOpResponse(JsonElement op)
    {
        if (op.TryGetProperty("response_range", out var range))
            return new EtcdOpResponse(EtcdOpType.Get, EtcdJson.KeyValues(range), 0);
        if (op.TryGetProperty("response_delete_range", out var delete))
            return new EtcdOpResponse(EtcdOpType.Delete, [], EtcdJson.Int64(delete, "deleted"));
        if (op.TryGetProperty("response_put", out _))
            return new EtcdOpResponse(EtcdOpType.Put, [], 0);
        throw new EtcdException("etcd answered a transaction operation this client does not know: " + op.GetRawText());
    }

    private HttpRequestMessage NewRequest(string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = JsonMediaType;
        return new HttpRequestMessage(HttpMethod.Post, new Uri(_endpoint, path)) { Content = content };
    }

    private async Task<JsonDocument> PostAsync(string path, byte[] body, CancellationToken ct)
    {
        using var request = NewRequest(path, body);
        using var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode) throw await ReadErrorAsync(response, ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new EtcdException($"etcd's answer to {path} is not JSON: {Encoding.UTF8.GetString(bytes)}", e);
        }
        // streaming endpoints (lease keepalive) report failures inside a 200 response
        if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out _))
        {
            using (doc) throw EtcdJson.Error(doc.RootElement, (int)response.StatusCode);
        }
        return doc;
    }

    private static async Task<EtcdException> ReadErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return EtcdJson.Error(doc.RootElement, (int)response.StatusCode);
        }
        catch (JsonException)
        {
        }
        var text = Encoding.UTF8.GetString(bytes).Trim();
        return new EtcdException($"etcd answered HTTP {(int)response.StatusCode}: {text}", 0, (int)response.StatusCode);
    }
}
