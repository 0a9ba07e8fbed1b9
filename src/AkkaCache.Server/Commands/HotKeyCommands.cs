using AkkaCache.Core.HotKeys;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>AC.HOTKEYS: the keys this node's shards see most, as counted by their hot-key detectors.</summary>
internal static class HotKeyCommands
{
    private const int DefaultCount = 10;

    public static void Register(List<CommandDefinition> list)
    {
        // AllShards: the detectors belong to their shard actors, so reading them needs every shard entered
        list.Add("AC.HOTKEYS", -1, CommandFlags.ReadOnly | CommandFlags.AllShards, 0, 0, 0, HotKeys, "akkacache",
            "Returns this node's hot keys as [key, ops per second, shard], hottest first.");
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
            session.Writer.WriteArrayHeader(3);
            session.Writer.WriteBulkString(hot[i].Key);
            session.Writer.WriteInteger(hot[i].OpsPerSecond);
            session.Writer.WriteInteger(hot[i].Shard);
        }
    }

    /// <summary>The node's hot keys, hottest first; the caller has every shard entered.</summary>
    public static List<HotKey> Collect(Core.CacheEngine engine, long nowMs)
    {
        var detectors = new List<(int, HotKeyDetector)>();
        foreach (var shard in engine.Shards)
            if (shard.HotKeys is { } detector) detectors.Add((shard.Index, detector));
        if (detectors.Count == 0) return [];
        return HotKeyReport.Collect(detectors, nowMs, new HotKeyThresholds(engine.Options.HotKeyShare, engine.Options.HotKeyMinRate));
    }

    /// <summary>INFO's count of hot keys: read without entering the shards, as INFO's other shard counters are.</summary>
    public static int PeekCount(Core.CacheEngine engine, long nowMs)
    {
        var detectors = new List<HotKeyDetector>();
        foreach (var shard in engine.Shards)
            if (shard.HotKeys is { } detector) detectors.Add(detector);
        if (detectors.Count == 0) return 0;
        return HotKeyReport.PeekCount(detectors, nowMs, new HotKeyThresholds(engine.Options.HotKeyShare, engine.Options.HotKeyMinRate));
    }
}
