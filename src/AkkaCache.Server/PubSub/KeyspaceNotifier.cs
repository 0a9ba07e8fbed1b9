using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using AkkaCache.Core.Storage;

namespace AkkaCache.Server.PubSub;

/// <summary>The classes of notify-keyspace-events, as Redis numbers them.</summary>
[Flags]
internal enum KeyspaceEvents
{
    None = 0,
    Keyspace = 1 << 0,  // K
    Keyevent = 1 << 1,  // E
    Generic = 1 << 2,   // g
    String = 1 << 3,    // $
    List = 1 << 4,      // l
    Set = 1 << 5,       // s
    Hash = 1 << 6,      // h
    ZSet = 1 << 7,      // z
    Expired = 1 << 8,   // x
    Evicted = 1 << 9,   // e
    Stream = 1 << 10,   // t
    KeyMiss = 1 << 11,  // m (not part of A)
    Module = 1 << 12,   // d
    New = 1 << 13,      // n (not part of A)
    All = Generic | String | List | Set | Hash | ZSet | Expired | Evicted | Stream | Module, // A
}

/// <summary>
/// notify-keyspace-events: publishes <c>__keyspace@0__:key</c> (the event name) and <c>__keyevent@0__:event</c> (the key)
/// to this node's subscribers, as Redis does, node-local as in Redis Cluster. Off by default; every hook reads one field
/// and tests a bit before doing anything, so a node without notifications pays nothing else.
/// </summary>
/// <remarks>
/// Events produced: set (SET and its variants, MSET), del (DEL, UNLINK, GETDEL), expire (EXPIRE and friends),
/// incrby (INCR, INCRBY, DECR, DECRBY), expired (a key removed by lazy or active expiry), evicted (a key removed for
/// maxmemory). The other letters are accepted, as Redis accepts them, but name types or events this node has not.
/// </remarks>
internal sealed class KeyspaceNotifier(PubSubRegistry registry, Func<long> clock) : IRemovalListener
{
    private static readonly byte[] KeyspacePrefix = "__keyspace@0__:"u8.ToArray();
    private static readonly byte[] KeyeventPrefix = "__keyevent@0__:"u8.ToArray();

    private volatile int _flags;

    public KeyspaceEvents Flags
    {
        get => (KeyspaceEvents)_flags;
        set => _flags = (int)value;
    }

    /// <summary>True when an event of <paramref name="kind"/> would be published (K or E, and the class).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsOn(KeyspaceEvents kind)
    {
        int flags = _flags;
        return (flags & (int)kind) != 0 && (flags & (int)(KeyspaceEvents.Keyspace | KeyspaceEvents.Keyevent)) != 0;
    }

    /// <summary>Redis's keyspaceEventsStringToFlags: null for an unknown letter.</summary>
    public static KeyspaceEvents? Parse(string value)
    {
        var flags = KeyspaceEvents.None;
        foreach (char c in value)
        {
            var bit = c switch
            {
                'A' => KeyspaceEvents.All,
                'g' => KeyspaceEvents.Generic,
                '$' => KeyspaceEvents.String,
                'l' => KeyspaceEvents.List,
                's' => KeyspaceEvents.Set,
                'h' => KeyspaceEvents.Hash,
                'z' => KeyspaceEvents.ZSet,
                'x' => KeyspaceEvents.Expired,
                'e' => KeyspaceEvents.Evicted,
                'K' => KeyspaceEvents.Keyspace,
                'E' => KeyspaceEvents.Keyevent,
                't' => KeyspaceEvents.Stream,
                'm' => KeyspaceEvents.KeyMiss,
                'd' => KeyspaceEvents.Module,
                'n' => KeyspaceEvents.New,
                _ => KeyspaceEvents.None,
            };
            if (bit == KeyspaceEvents.None) return null;
            flags |= bit;
        }
        return flags;
    }

    /// <summary>Redis's keyspaceEventsFlagsToString: what CONFIG GET shows ("A" for all the classes, then K, E, m, n).</summary>
    public static string Format(KeyspaceEvents flags)
    {
        var text = new StringBuilder();
        if ((flags & KeyspaceEvents.All) == KeyspaceEvents.All) text.Append('A');
        else
        {
            if ((flags & KeyspaceEvents.Generic) != 0) text.Append('g');
            if ((flags & KeyspaceEvents.String) != 0) text.Append('$');
            if ((flags & KeyspaceEvents.List) != 0) text.Append('l');
            if ((flags & KeyspaceEvents.Set) != 0) text.Append('s');
            if ((flags & KeyspaceEvents.Hash) != 0) text.Append('h');
            if ((flags & KeyspaceEvents.ZSet) != 0) text.Append('z');
            if ((flags & KeyspaceEvents.Expired) != 0) text.Append('x');
            if ((flags & KeyspaceEvents.Evicted) != 0) text.Append('e');
            if ((flags & KeyspaceEvents.Stream) != 0) text.Append('t');
            if ((flags & KeyspaceEvents.Module) != 0) text.Append('d');
        }
        if ((flags & KeyspaceEvents.Keyspace) != 0) text.Append('K');
        if ((flags & KeyspaceEvents.Keyevent) != 0) text.Append('E');
        if ((flags & KeyspaceEvents.KeyMiss) != 0) text.Append('m');
        if ((flags & KeyspaceEvents.New) != 0) text.Append('n');
        return text.ToString();
    }

    /// <summary>Publishes the event if its class is on; called by the command after it changed the key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Notify(KeyspaceEvents kind, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key)
    {
        if (!IsOn(kind)) return;
        Publish(eventName, key);
    }

    void IRemovalListener.OnRemoved(ReadOnlySpan<byte> key, RemovalCause cause)
    {
        if (cause == RemovalCause.Expired) Notify(KeyspaceEvents.Expired, "expired"u8, key);
        else if (cause == RemovalCause.Evicted) Notify(KeyspaceEvents.Evicted, "evicted"u8, key);
    }

    private void Publish(ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key)
    {
        int flags = _flags;
        long now = clock();
        int length = Math.Max(KeyspacePrefix.Length + key.Length, KeyeventPrefix.Length + eventName.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            if ((flags & (int)KeyspaceEvents.Keyspace) != 0)
            {
                KeyspacePrefix.CopyTo(buffer, 0);
                key.CopyTo(buffer.AsSpan(KeyspacePrefix.Length));
                registry.Publish(buffer.AsSpan(0, KeyspacePrefix.Length + key.Length), eventName, now);
            }
            if ((flags & (int)KeyspaceEvents.Keyevent) != 0)
            {
                KeyeventPrefix.CopyTo(buffer, 0);
                eventName.CopyTo(buffer.AsSpan(KeyeventPrefix.Length));
                registry.Publish(buffer.AsSpan(0, KeyeventPrefix.Length + eventName.Length), key, now);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
