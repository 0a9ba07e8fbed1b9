using AkkaCache.Client.Internal;
using AkkaCache.Protocol;

namespace AkkaCache.Client;

public sealed partial class AkkaCacheClient
{
    // a standalone node takes MGET/MSET in chunks this big: long enough to amortise, short enough not to stall others
    private const int BatchChunk = 512;

    /// <summary>
    /// The values of many keys, in the order asked (null where a key has none). Keys are grouped by slot (a cluster runs
    /// MGET only within one slot), and the groups go to their nodes at once, pipelined.
    /// </summary>
    public async ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<CacheKey> keys, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var results = new byte[]?[keys.Count];
        if (keys.Count == 0) return results;
        var groups = Group(keys.Count, i => keys[i]);
        var calls = new Task[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            var positions = groups[g];
            var operation = Operation.Rent("MGET", OperationKind.Read, positions.Count + 1);
            foreach (int position in positions) operation.AddKey(keys[position]);
            calls[g] = GetGroupAsync(operation, positions, results, cancellation);
        }
        await Task.WhenAll(calls).ConfigureAwait(false);
        return results;
    }

    private async Task GetGroupAsync(Operation operation, List<int> positions, byte[]?[] results, CancellationToken cancellation)
    {
        var reply = await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false);
        var items = Expect(reply, "MGET", RespType.Array).Value!.Items!;
        if (items.Count != positions.Count) throw new AkkaCacheException($"MGET answered {items.Count} values for {positions.Count} keys.");
        for (int i = 0; i < positions.Count; i++) results[positions[i]] = items[i].IsNull ? null : items[i].Bytes;
    }

    /// <summary>
    /// Stores many values, grouped by slot like <see cref="GetManyAsync"/>: one MSET per slot, or one SET per key when
    /// <paramref name="ttl"/> is given, all sent at once. Atomic per slot only.
    /// </summary>
    public async ValueTask SetManyAsync(IReadOnlyList<KeyValuePair<CacheKey, CacheValue>> items, TimeSpan? ttl = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0) return;
        if (ttl is { } time)
        {
            long ms = Milliseconds(time, nameof(ttl));
            var sets = new Task[items.Count];
            for (int i = 0; i < items.Count; i++)
            {
                var operation = Operation.Rent("SET", OperationKind.IdempotentWrite, 5);
                operation.AddKey(items[i].Key);
                operation.Add(items[i].Value);
                operation.Add("PX"u8);
                operation.Add(ms);
                sets[i] = SetGroupAsync(operation, "SET", cancellation);
            }
            await Task.WhenAll(sets).ConfigureAwait(false);
            return;
        }
        var groups = Group(items.Count, i => items[i].Key);
        var calls = new Task[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            var positions = groups[g];
            var operation = Operation.Rent("MSET", OperationKind.IdempotentWrite, positions.Count * 2 + 1);
            foreach (int position in positions)
            {
                operation.AddKey(items[position].Key);
                operation.Add(items[position].Value);
            }
            calls[g] = SetGroupAsync(operation, "MSET", cancellation);
        }
        await Task.WhenAll(calls).ConfigureAwait(false);
    }

    private async Task SetGroupAsync(Operation operation, string command, CancellationToken cancellation) =>
        Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), command, RespType.SimpleString);

    /// <summary>Positions grouped by slot in a cluster, or in chunks for a standalone node.</summary>
    private List<List<int>> Group(int count, Func<int, CacheKey> keyAt)
    {
        var groups = new List<List<int>>();
        if (_core.Map is { IsClustered: false })
        {
            for (int start = 0; start < count; start += BatchChunk)
                groups.Add(Enumerable.Range(start, Math.Min(BatchChunk, count - start)).ToList());
            return groups;
        }
        var bySlot = new Dictionary<int, List<int>>();
        for (int i = 0; i < count; i++)
        {
            var key = keyAt(i);
            int slot = HashSlot.Of(key.Text is { } text ? System.Text.Encoding.UTF8.GetBytes(text) : key.Bytes.Span);
            if (!bySlot.TryGetValue(slot, out var positions)) bySlot[slot] = positions = [];
            positions.Add(i);
        }
        groups.AddRange(bySlot.Values);
        return groups;
    }
}
