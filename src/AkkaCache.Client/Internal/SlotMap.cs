using AkkaCache.Client.Transport;
using AkkaCache.Protocol;

namespace AkkaCache.Client.Internal;

/// <summary>Who serves a slot range: its primary, then its replicas.</summary>
internal sealed class SlotOwner(NodeEntry primary, NodeEntry[] replicas)
{
    public NodeEntry Primary { get; } = primary;
    public NodeEntry[] Replicas { get; } = replicas;
    private int _next;

    /// <summary>For replica reads: the primary and its replicas in turn.</summary>
    public NodeEntry NextReader()
    {
        if (Replicas.Length == 0) return Primary;
        int turn = (int)((uint)Interlocked.Increment(ref _next) % (uint)(Replicas.Length + 1));
        return turn == 0 ? Primary : Replicas[turn - 1];
    }
}

/// <summary>One node and the connections to it.</summary>
internal sealed class NodeEntry
{
    private readonly NodeConnection[] _connections;
    private int _next;

    public NodeEntry(ClientCore core, string endPoint, int connections)
    {
        EndPoint = endPoint;
        _connections = new NodeConnection[connections];
        for (int i = 0; i < connections; i++) _connections[i] = new NodeConnection(core, endPoint);
    }

    public string EndPoint { get; }

    public IReadOnlyList<NodeConnection> Connections => _connections;

    public NodeConnection Next() => _connections.Length == 1
        ? _connections[0]
        : _connections[(int)((uint)Interlocked.Increment(ref _next) % (uint)_connections.Length)];

    /// <summary>A connection that is up, else any (so a caller connects it).</summary>
    public NodeConnection NextReady()
    {
        var connection = Next();
        if (connection.IsReady) return connection;
        foreach (var other in _connections)
            if (other.IsReady) return other;
        return connection;
    }
}

/// <summary>
/// The slot → owner table the client routes by. Built from CLUSTER SLOTS (or one owner for a standalone node); a
/// -MOVED patches one slot in place at once, and the next full read replaces the table.
/// </summary>
internal sealed class SlotMap
{
    private readonly SlotOwner?[] _slots;

    private SlotMap(SlotOwner?[] slots, bool clustered, int primaries)
    {
        _slots = slots;
        IsClustered = clustered;
        PrimaryCount = primaries;
    }

    public bool IsClustered { get; }
    public int PrimaryCount { get; }

    public SlotOwner? this[int slot] => _slots[slot];

    public static SlotMap Standalone(NodeEntry node)
    {
        var owner = new SlotOwner(node, []);
        var slots = new SlotOwner?[HashSlot.Count];
        Array.Fill(slots, owner);
        return new SlotMap(slots, clustered: false, primaries: 1);
    }

    /// <summary>Reads a CLUSTER SLOTS reply: [start, end, [host, port, id...], replicas...] per range.</summary>
    public static SlotMap FromClusterSlots(RespValue reply, Func<string, NodeEntry> node)
    {
        if (reply.Type != RespType.Array || reply.Items is null) throw new IOException("CLUSTER SLOTS did not answer an array.");
        var slots = new SlotOwner?[HashSlot.Count];
        var primaries = new HashSet<string>();
        foreach (var range in reply.Items)
        {
            if (range.Items is not { Count: >= 3 } items) throw new IOException("CLUSTER SLOTS sent a malformed range.");
            int start = (int)items[0].Integer, end = (int)items[1].Integer;
            if (start < 0 || end >= HashSlot.Count || start > end) throw new IOException($"CLUSTER SLOTS sent the range {start}-{end}.");
            var primary = node(EndPointOf(items[2]));
            primaries.Add(primary.EndPoint);
            var replicas = new NodeEntry[items.Count - 3];
            for (int i = 3; i < items.Count; i++) replicas[i - 3] = node(EndPointOf(items[i]));
            var owner = new SlotOwner(primary, replicas);
            for (int slot = start; slot <= end; slot++) slots[slot] = owner;
        }
        // a cluster node that is still joining (or cut off) knows no owner yet: ask another node, or again shortly
        if (primaries.Count == 0) throw new IOException("CLUSTER SLOTS named no owner: the node is not serving yet (joining, or without a quorum).");
        return new SlotMap(slots, clustered: true, primaries.Count);
    }

    private static string EndPointOf(RespValue node)
    {
        if (node.Items is not { Count: >= 2 } fields) throw new IOException("CLUSTER SLOTS sent a malformed node.");
        return HostPort.Join(fields[0].AsString() ?? "", fields[1].Integer);
    }

    /// <summary>-MOVED: the slot is served by <paramref name="node"/> now; its replicas are unknown until the next full read.</summary>
    public void Moved(int slot, NodeEntry node) => _slots[slot] = new SlotOwner(node, []);

    /// <summary>True when both maps send every slot to the same primary.</summary>
    public bool SamePrimaries(SlotMap other)
    {
        for (int slot = 0; slot < HashSlot.Count; slot++)
            if (_slots[slot]?.Primary.EndPoint != other._slots[slot]?.Primary.EndPoint) return false;
        return true;
    }

    public IEnumerable<NodeEntry> Primaries() => _slots.Where(o => o is not null).Select(o => o!.Primary).Distinct();
}
