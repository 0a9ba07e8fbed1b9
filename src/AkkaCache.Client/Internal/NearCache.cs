using System.Text;
using AkkaCache.Protocol;

namespace AkkaCache.Client.Internal;

/// <summary>
/// The client's near cache: GET results kept in a bounded LRU, valid while the server (CLIENT TRACKING on every
/// connection) has not told otherwise. An invalidation push, a write through this client or a lost connection drops
/// entries; a flush (FLUSHALL, a reconnect, when invalidations may have been missed) drops all.
/// </summary>
/// <remarks>
/// A GET's reply and an invalidation of the same key can race in the client: the push is read by the connection's
/// reader loop while the caller has its reply but has not stored it yet. Every drop bumps <see cref="Stamp"/>, and a
/// GET stores its value only if no drop happened since just before it was sent, so a value the server already
/// invalidated is never kept (a drop of another key merely costs the store).
/// </remarks>
internal sealed class NearCache(int maxEntries)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, byte[] Value)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, byte[] Value)> _order = new();   // most recently used first
    private long _stamp;

    public int Count
    {
        get
        {
            lock (_gate) return _entries.Count;
        }
    }

    public long Stamp
    {
        get
        {
            lock (_gate) return _stamp;
        }
    }

    /// <summary>Key bytes as a string one char per byte: binary keys and pushed keys map the same way, losslessly.</summary>
    public static string KeyOf(CacheKey key) =>
        key.IsText ? Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(key.Text!)) : KeyOf(key.Bytes.Span);

    public static string KeyOf(ReadOnlySpan<byte> key) => Encoding.Latin1.GetString(key);

    /// <summary>A copy of the cached value (callers own what GET returns), or null.</summary>
    public byte[]? TryGet(string key)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node)) return null;
            _order.Remove(node);
            _order.AddFirst(node);
            return (byte[])node.Value.Value.Clone();
        }
    }

    public void Store(string key, byte[] value, long stampBeforeSend)
    {
        lock (_gate)
        {
            if (_stamp != stampBeforeSend) return;
            if (_entries.Remove(key, out var existing)) _order.Remove(existing);
            else if (_entries.Count >= maxEntries && _order.Last is { } oldest)
            {
                _order.RemoveLast();
                _entries.Remove(oldest.Value.Key);
            }
            _entries[key] = _order.AddFirst((key, (byte[])value.Clone()));
        }
    }

    public void Remove(string key)
    {
        lock (_gate)
        {
            _stamp++;
            if (_entries.Remove(key, out var node)) _order.Remove(node);
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _stamp++;
            _entries.Clear();
            _order.Clear();
        }
    }

    /// <summary>
    /// A push frame from a node: true when it was an invalidation (RESP3 <c>invalidate</c> with a key array, or a null
    /// one meaning every key), which has then been applied.
    /// </summary>
    public bool TryApplyPush(RespValue push)
    {
        if (push.Items is not { Count: 2 } items || items[0].AsString() != "invalidate") return false;
        if (items[1].Items is { } keys)
        {
            foreach (var key in keys)
                if (key.Bytes is { } bytes) Remove(KeyOf(bytes));
        }
        else Clear();
        return true;
    }
}
