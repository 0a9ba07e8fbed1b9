using System.Buffers;
using System.Runtime.CompilerServices;
using AkkaCache.Client.Internal;
using AkkaCache.Protocol;

namespace AkkaCache.Client;

// What AkkaCacheDistributedCache needs beyond the public API: a value sent as header + payload without joining them
// first, and the header read back alone.
public sealed partial class AkkaCacheClient
{
    /// <summary>
    /// SET of <paramref name="header"/> followed by <paramref name="value"/> as one value, with PX when <paramref name="ttl"/>
    /// is given. Both are copied into the request before this returns, so the caller may reuse them at once.
    /// </summary>
    internal ValueTask SetJoinedAsync(CacheKey key, ReadOnlySpan<byte> header, in ReadOnlySequence<byte> value, TimeSpan? ttl, CancellationToken cancellation)
    {
        var operation = Operation.Rent("SET", OperationKind.IdempotentWrite, ttl is null ? 3 : 5);
        try
        {
            operation.AddKey(key);
            operation.Add(header, value);
            if (ttl is { } time)
            {
                operation.Add("PX"u8);
                operation.Add(Milliseconds(time, nameof(ttl)));
            }
        }
        catch
        {
            operation.EndCall();
            throw;
        }
        return SendSetAsync(operation, cancellation);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendSetAsync(Operation operation, CancellationToken cancellation) =>
        Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "SET", RespType.SimpleString);

    /// <summary>GETRANGE: bytes <paramref name="start"/>..<paramref name="end"/> (inclusive) of the value; empty when the key has none.</summary>
    internal async ValueTask<byte[]> GetRangeAsync(CacheKey key, long start, long end, CancellationToken cancellation)
    {
        var operation = Operation.Rent("GETRANGE", OperationKind.Read, 4);
        operation.AddKey(key);
        operation.Add(start);
        operation.Add(end);
        var reply = await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false);
        return reply.IsNull ? [] : Expect(reply, "GETRANGE", RespType.BulkString).Bytes ?? [];
    }
}
