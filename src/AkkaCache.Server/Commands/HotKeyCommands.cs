using AkkaCache.Cluster.HotKeys;
using AkkaCache.Core.HotKeys;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>
/// AC.HOTKEYS: the keys this node's shards see most, as counted by their hot-key detectors, and where they are copied.
/// AC.HOTCOPIES: the promoted keys a client may read from any node. AC.HOTSET / AC.HOTDEL / AC.HOTPING: hot-key
/// replication between nodes (<see cref="HotKeyMessages"/>).
/// </summary>
internal static class HotKeyCommands
{
    private const int DefaultCount = 10;

    public static void Register(List<CommandDefinition> list)
    {
        // AllShards: the detectors belong to their shard actors, so reading them needs every shard entered
        list.Add("AC.HOTKEYS", -1, CommandFlags.ReadOnly | CommandFlags.AllShards, 0, 0, 0, HotKeys, "akkacache",
            "Returns this node's hot keys as [key, ops per second, shard, [nodes holding a copy]], hottest first.");
        list.Add("AC.HOTCOPIES", 1, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.Stale, 0, 0, 0, HotCopies, "akkacache",
            "Returns the promoted keys (this node's and the copies it holds): any node serves their reads.");
        const CommandFlags Internal = CommandFlags.Fast | CommandFlags.ClusterInternal | CommandFlags.Stale;
        list.Add(HotKeyMessages.Set, 7, Internal, 0, 0, 0, HotSet, "akkacache", "Cluster-internal: stores a copy of another node's hot key.");
        list.Add(HotKeyMessages.Delete, 4, Internal, 0, 0, 0, HotDelete, "akkacache", "Cluster-internal: drops the copy of another node's hot key.");
        list.Add(HotKeyMessages.Ping, -2, Internal, 0, 0, 0, HotPing, "akkacache", "Cluster-internal: renews a node's lease on this node's hot-key copies.");
    }

    private static HotKeyReplicator? Replicator(ClientSession session)
    {
        if (session.Node.HotKeys is { } replicator) return replicator;
        session.Writer.WriteError("ERR hot-key replication is off on this node (standalone, or HotKeyReplication false)");
        return null;
    }

    private static void HotCopies(ClientSession session, in Request request)
    {
        if (session.Node.HotKeys is not { } replicator)
        {
            session.Writer.WriteArrayHeader(0);
            return;
        }
        var keys = new List<byte[]>(replicator.PromotedKeys);
        long nowMs = session.NowMs;
        foreach (var copy in replicator.Copies.All)
            if (copy.ExpireAtMs == 0 || copy.ExpireAtMs > nowMs) keys.Add(copy.Key);
        session.Writer.WriteArrayHeader(keys.Count);
        foreach (var key in keys) session.Writer.WriteBulkString(key);
    }

    private static void HotSet(ClientSession session, in Request request)
    {
        if (Replicator(session) is not { } replicator) return;
        if (!RespNumbers.TryParseInt64(request[2], out long ownerSession) || !RespNumbers.TryParseInt64(request[5], out long version)
            || !RespNumbers.TryParseInt64(request[6], out long expireAtMs))
        {
            session.Writer.WriteError("ERR value is not an integer or out of range");
            return;
        }
        var key = request[3];
        if (replicator.Copies.Set(replicator.Copies.Owner(request[1]), ownerSession, key, request[4], version, expireAtMs)) OnCopyChanged(session, key);
        session.Writer.WriteOk();
    }

    private static void HotDelete(ClientSession session, in Request request)
    {
        if (Replicator(session) is not { } replicator) return;
        if (!RespNumbers.TryParseInt64(request[2], out long ownerSession))
        {
            session.Writer.WriteError("ERR value is not an integer or out of range");
            return;
        }
        var key = request[3];
        if (replicator.Copies.Delete(replicator.Copies.Owner(request[1]), ownerSession, key)) OnCopyChanged(session, key);
        session.Writer.WriteOk();
    }

    /// <summary>A copy changed: clients here that read it through the copy and track it must hear of it.</summary>
    private static void OnCopyChanged(ClientSession session, ReadOnlySpan<byte> key)
    {
        if (session.Node.Tracking.IsOn) session.Node.Tracking.Invalidate(key, null);
    }

    private static void HotPing(ClientSession session, in Request request)
    {
        if (Replicator(session) is not { } replicator) return;
        if (request.Count % 2 != 0)
        {
            session.Writer.WriteError("ERR wrong number of arguments for 'ac.hotping' command");
            return;
        }
        for (int i = 2; i + 1 < request.Count; i += 2)
            if (RespNumbers.TryParseInt64(request[i + 1], out long reads)) replicator.AddRemoteReads(request[i], reads);
        if (replicator.AnswerPing(request[1]) is { } ownerSession) session.Writer.WriteInteger(ownerSession);
        else session.Writer.WriteError("HOTLEASE this node cannot vouch for its hot-key copies on the pinging node right now");
    }

    private static void HotKeys(ClientSession session, in Request request)
    {
        long count = DefaultCount;
        for (int i = 1; i < request.Count; i++)
        {
            if (CommandSupport.Is(request[i], "COUNT"u8) && i + 1 < request.Count)
            {
                if (!RespNumbers.TryParseInt64(request[++i], out count))
                {
                    session.Writer.WriteError("ERR value is not an integer or out of range");
                    return;
                }
                if (count < 1)
                {
                    session.Writer.WriteError("ERR COUNT must be positive");
                    return;
                }
            }
            else
            {
                session.Writer.WriteError("ERR syntax error");
                return;
            }
        }
        var hot = Collect(session.Node.Engine, session.NowMs);
        int shown = (int)Math.Min(count, hot.Count);
        session.Writer.WriteArrayHeader(shown);
        for (int i = 0; i < shown; i++)
        {
            session.Writer.WriteArrayHeader(4);
            session.Writer.WriteBulkString(hot[i].Key);
            session.Writer.WriteInteger(hot[i].OpsPerSecond);
            session.Writer.WriteInteger(hot[i].Shard);
            // every shard is entered, so the promoted sets may be read
            if (session.Node.HotKeys is { } replicator && replicator.IsPromoted(hot[i].Shard, hot[i].Key))
            {
                var holders = replicator.PeerIds.ToList();
                session.Writer.WriteArrayHeader(holders.Count);
                foreach (var holder in holders) session.Writer.WriteBulkString(holder);
            }
            else session.Writer.WriteArrayHeader(0);
        }
    }

    /// <summary>The node's hot keys, hottest first; the caller has every shard entered.</summary>
    public static List<HotKey> Collect(Core.CacheEngine engine, long nowMs)
    {
        var detectors = new List<(int, HotKeyDetector)>();
        foreach (var shard in engine.Shards)
            if (shard.HotKeys is { } detector) detectors.Add((shard.Index, detector));
        if (detectors.Count == 0) return [];
        return HotKeyReport.Collect(detectors, nowMs, engine.HotKeyThresholds);
    }

    /// <summary>INFO's count of hot keys: read without entering the shards, as INFO's other shard counters are.</summary>
    public static int PeekCount(Core.CacheEngine engine, long nowMs)
    {
        var detectors = new List<HotKeyDetector>();
        foreach (var shard in engine.Shards)
            if (shard.HotKeys is { } detector) detectors.Add(detector);
        if (detectors.Count == 0) return 0;
        return HotKeyReport.PeekCount(detectors, nowMs, engine.HotKeyThresholds);
    }
}
