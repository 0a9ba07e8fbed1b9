using System.Diagnostics;
using AkkaCache.Protocol;

namespace AkkaCache.Client.Internal;

/// <summary>
/// The keys the cluster promoted (every node holds a copy and answers their reads without a redirect), read from one
/// node with AC.HOTCOPIES every <see cref="AkkaCacheClientOptions.HotKeyRefreshInterval"/>. Reads of those keys are
/// spread over every primary instead of all landing on the key's owner. A copy that lapsed in between only costs a
/// -MOVED to the owner.
/// </summary>
internal sealed class HotKeyRouting(ClientCore core)
{
    private static readonly HashSet<byte[]> None = new(ByteKeyComparer.Instance);

    private HashSet<byte[]> _keys = None;
    private Targets _targets = new(null, []);
    private long _nextRefresh;
    private int _refreshing;
    private int _turn;
    private bool _unsupported;

    public int Count => Volatile.Read(ref _keys).Count;

    public bool Contains(ReadOnlySpan<byte> key) => Volatile.Read(ref _keys) is { Count: > 0 } keys && keys.GetAlternateLookup<ReadOnlySpan<byte>>().Contains(key);

    /// <summary>Reads a node answers from its copy: only these are worth sending to a node that does not own the key.</summary>
    public static bool IsCopyRead(string command) => command is "GET" or "MGET" or "EXISTS" or "TTL" or "PTTL";

    /// <summary>A node to read a hot key from, taking the primaries in turn; null when none is connected (the owner serves).</summary>
    public NodeEntry? NextNode(SlotMap map)
    {
        var targets = Volatile.Read(ref _targets);
        if (!ReferenceEquals(targets.Map, map))
        {
            targets = new Targets(map, map.Primaries().ToArray());
            Volatile.Write(ref _targets, targets);
        }
        var primaries = targets.Primaries;
        if (primaries.Length == 0) return null;
        // per-thread turns would need a ThreadStatic; a racy shared one still spreads evenly enough
        int turn = unchecked(++_turn) & int.MaxValue;
        var node = primaries[turn % primaries.Length];
        var connection = node.NextReady();
        if (connection.IsReady) return node;
        connection.ConnectInBackground();
        return null;
    }

    /// <summary>On the client's timer: starts a refresh when one is due.</summary>
    public void OnTick(long now, SlotMap? map)
    {
        var interval = core.Options.HotKeyRefreshInterval;
        if (interval <= TimeSpan.Zero || map is not { IsClustered: true } || now < Volatile.Read(ref _nextRefresh)) return;
        if (Interlocked.Exchange(ref _refreshing, 1) == 1) return;
        // a node without AC.HOTCOPIES (an older version) is asked again only rarely
        long wait = (long)(interval.TotalSeconds * Stopwatch.Frequency) * (_unsupported ? 30 : 1);
        Volatile.Write(ref _nextRefresh, now + wait);
        _ = RefreshAsync(map);
    }

    private async Task RefreshAsync(SlotMap map)
    {
        try
        {
            var primaries = map.Primaries().ToArray();
            var node = primaries[(int)((uint)Environment.TickCount % (uint)primaries.Length)];
            var reply = await core.ExecuteOnAsync(node, ["AC.HOTCOPIES"], core.Options.OperationTimeout, CancellationToken.None).ConfigureAwait(false);
            if (reply.IsError)
            {
                _unsupported = true;
                Volatile.Write(ref _keys, None);
                return;
            }
            _unsupported = false;
            var keys = new HashSet<byte[]>(ByteKeyComparer.Instance);
            foreach (var item in reply.Value!.Items ?? []) if (item.Bytes is { } key) keys.Add(key);
            Volatile.Write(ref _keys, keys.Count == 0 ? None : keys);
        }
        catch (Exception error) when (error is AkkaCacheException or TimeoutException or IOException or ObjectDisposedException)
        {
            // the next tick tries another node; meanwhile the last known set stands
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    private sealed record Targets(SlotMap? Map, NodeEntry[] Primaries);
}
