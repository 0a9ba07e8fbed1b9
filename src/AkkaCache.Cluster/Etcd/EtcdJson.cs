using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AkkaCache.Cluster.Etcd;

/// <summary>
/// Reading and writing the gateway's protobuf-JSON. Proto3 JSON leaves out every field that holds its default value (0, false,
/// empty), so a missing field means zero here, never an error; int64 fields travel as strings because lease ids exceed 2^53.
/// </summary>
internal static class EtcdJson
{
    /// <summary>The smallest key etcd accepts as a range end meaning "to the end of the keyspace".</summary>
    private static readonly byte[] EndOfKeyspace = [0];

    public static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer, state);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteInt64(Utf8JsonWriter writer, string name, long value) =>
        writer.WriteString(name, value.ToString(CultureInfo.InvariantCulture));

    public static void WriteKey(Utf8JsonWriter writer, string key) => writer.WriteBase64String("key", Encoding.UTF8.GetBytes(key));

    /// <summary>The key and range end selecting every key that starts with <paramref name="prefix"/>.</summary>
    public static void WritePrefix(Utf8JsonWriter writer, string prefix)
    {
        var start = Encoding.UTF8.GetBytes(prefix);
        writer.WriteBase64String("key", start.Length == 0 ? EndOfKeyspace : start);
        writer.WriteBase64String("range_end", PrefixEnd(start));
    }

    /// <summary>The first key after all keys starting with <paramref name="prefix"/>: the prefix with its last byte below 0xff raised by one.</summary>
    public static byte[] PrefixEnd(byte[] prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] == 0xff) continue;
            var end = prefix.AsSpan(0, i + 1).ToArray();
            end[i]++;
            return end;
        }
        return EndOfKeyspace;
    }

    public static long Int64(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value)) return 0;
        return value.ValueKind switch
        {
            JsonValueKind.String => long.Parse(value.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
            JsonValueKind.Number => value.GetInt64(),
            _ => 0,
        };
    }

    public static bool Bool(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    public static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static long HeaderRevision(JsonElement obj) =>
        obj.TryGetProperty("header", out var header) ? Int64(header, "revision") : 0;

    public static EtcdKeyValue KeyValue(JsonElement kv) => new(
        Encoding.UTF8.GetString(Bytes(kv, "key")),
        Bytes(kv, "value"),
        Int64(kv, "create_revision"),
        Int64(kv, "mod_revision"),
        Int64(kv, "version"),
        Int64(kv, "lease"));

    public static IReadOnlyList<EtcdKeyValue> KeyValues(JsonElement obj)
    {
        if (!obj.TryGetProperty("kvs", out var kvs) || kvs.ValueKind != JsonValueKind.Array) return [];
        var items = new List<EtcdKeyValue>(kvs.GetArrayLength());
        foreach (var kv in kvs.EnumerateArray()) items.Add(KeyValue(kv));
        return items;
    }

    private static byte[] Bytes(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetBytesFromBase64() : [];

    /// <summary>
    /// The exception for an error body. Unary calls answer {"error":"..","message":"..","code":N}; an error inside a stream is
    /// {"error":{"grpc_code":N,"http_code":N,"message":"..","http_status":".."}}.
    /// </summary>
    public static EtcdException Error(JsonElement root, int httpStatus)
    {
        var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : root;
        var message = String(error, "message") ?? String(root, "error") ?? error.GetRawText();
        var code = (int)(error.TryGetProperty("code", out _) ? Int64(error, "code") : Int64(error, "grpc_code"));
        return new EtcdException(message, code, httpStatus);
    }

    public static string CompareTarget(EtcdCompareTarget target) => target switch
    {
        EtcdCompareTarget.Version => "VERSION",
        EtcdCompareTarget.CreateRevision => "CREATE",
        EtcdCompareTarget.ModRevision => "MOD",
        EtcdCompareTarget.Value => "VALUE",
        EtcdCompareTarget.Lease => "LEASE",
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, null),
    };

    public static string CompareField(EtcdCompareTarget target) => target switch
    {
        EtcdCompareTarget.Version => "version",
        EtcdCompareTarget.CreateRevision => "create_revision",
        EtcdCompareTarget.ModRevision => "mod_revision",
        EtcdCompareTarget.Value => "value",
        EtcdCompareTarget.Lease => "lease",
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, null),
    };

    public static string CompareResult(EtcdCompareResult result) => result switch
    {
        EtcdCompareResult.Equal => "EQUAL",
        EtcdCompareResult.Greater => "GREATER",
        EtcdCompareResult.Less => "LESS",
        EtcdCompareResult.NotEqual => "NOT_EQUAL",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, null),
    };
}
