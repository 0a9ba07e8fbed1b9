using System.Text;
using AkkaCache.Core.Eviction;
using AkkaCache.Core.Storage;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>MEMORY and OBJECT: per-key introspection (run with the key's shard entered) and node memory figures.</summary>
internal static partial class ServerCommands
{
    /// <summary>
    /// Bytes an entry costs besides its key and value, per <see cref="EntryTable"/>'s layout: the arena record header (8),
    /// the entry struct (4 ints + 2 longs = 32), its bucket slot (4) and the policy's and timer wheel's per-id arrays (24).
    /// </summary>
    internal const int EntryOverheadBytes = 8 + 32 + 4 + 24;

    private static readonly Subcommand[] MemorySubcommands =
    [
        new("USAGE", -3, CommandFlags.ReadOnly, "USAGE <key> [SAMPLES <count>]", "Return memory in bytes used by <key> and its value.", "4.0.0", 2, 2, 1),
        new("STATS", 2, CommandFlags.None, "STATS", "Return information about the memory usage of the server.", "4.0.0"),
        new("DOCTOR", 2, CommandFlags.None, "DOCTOR", "Return memory problems reports.", "4.0.0"),
        new("MALLOC-STATS", 2, CommandFlags.None, "MALLOC-STATS", "Return internal statistics report from the memory allocator.", "4.0.0"),
        new("PURGE", 2, CommandFlags.None, "PURGE", "Attempt to purge dirty pages for reclamation by the allocator.", "4.0.0"),
        new("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, "HELP", "Returns helpful text about the different subcommands.", "4.0.0"),
    ];

    private static readonly Subcommand[] ObjectSubcommands =
    [
        new("ENCODING", 3, CommandFlags.ReadOnly, "ENCODING <key>", "Return the kind of internal representation used in order to store the value associated with a <key>.", "2.2.3", 2, 2, 1),
        new("FREQ", 3, CommandFlags.ReadOnly, "FREQ <key>", "Return the access frequency index of the <key>. The returned integer is proportional to the logarithm of the recent access frequency of the key.", "4.0.0", 2, 2, 1),
        new("IDLETIME", 3, CommandFlags.ReadOnly, "IDLETIME <key>", "Return the idle time of the <key>, that is the approximated number of seconds elapsed since the last access to the key.", "2.2.3", 2, 2, 1),
        new("REFCOUNT", 3, CommandFlags.ReadOnly, "REFCOUNT <key>", "Return the number of references of the value associated with the specified <key>.", "2.2.3", 2, 2, 1),
        new("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, "HELP", "Returns helpful text about the different subcommands.", "6.2.0"),
    ];

    private static void Memory(ClientSession session, in Request request)
    {
        if (!TryResolve(session, request, "MEMORY", MemorySubcommands, out var sub)) return;
        var writer = session.Writer;
        switch (sub.Name)
        {
            case "USAGE":
            {
                for (int i = 3; i < request.Count; i += 2)
                {
                    if (!Ascii.EqualsIgnoreCase(request[i], "SAMPLES"u8) || i + 1 >= request.Count)
                    {
                        writer.WriteError("ERR syntax error");
                        return;
                    }
                    if (!RespNumbers.TryParseInt64(request[i + 1], out long samples))
                    {
                        writer.WriteError("ERR value is not an integer or out of range");
                        return;
                    }
                    if (samples < 0)
                    {
                        writer.WriteError("ERR syntax error");
                        return;
                    }
                }
                var key = request[2];
                var table = session.Table(key);
                int id = table.Find(key, EntryTable.Hash(key), session.NowMs);
                if (id < 0) writer.WriteNull();
                else writer.WriteInteger(EntryOverheadBytes + table.Key(id).Length + table.ValueLength(id));
                break;
            }
            case "STATS":
                MemoryStats(session);
                break;
            case "DOCTOR":
                writer.WriteVerbatimString("txt", "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.");
                break;
            case "MALLOC-STATS":
                writer.WriteVerbatimString("txt", "Stats not supported for the current allocator");
                break;
            case "PURGE":
                // the arrays shards outgrew sit in the large object heap until a full GC: collect and compact them
                // now and give the pages back, as jemalloc's purge does for Redis
                System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                writer.WriteOk();
                break;
            default:
                WriteHelp(session, "MEMORY", MemorySubcommands);
                break;
        }
    }

    /// <summary>MEMORY STATS: Redis's main fields, from the node's budget and (racy, as INFO) shard totals.</summary>
    private static void MemoryStats(ClientSession session)
    {
        var node = session.Node;
        var writer = session.Writer;
        var totals = InfoReport.SumShards(node);
        long used = node.Engine.Memory.Allocated;
        long peak = node.Config.ObservePeak(used);
        long dataset = Math.Min(totals.LiveBytes, used);
        long rss = Environment.WorkingSet;

        writer.WriteMapHeader(16);
        Integer("peak.allocated", peak);
        Integer("total.allocated", used);
        Integer("startup.allocated", 0);
        Integer("replication.backlog", 0);
        Integer("clients.slaves", 0);
        Integer("clients.normal", 0);
        Integer("cluster.links", 0);
        Integer("aof.buffer", 0);
        Integer("overhead.total", used - dataset);
        Integer("keys.count", totals.Keys);
        Integer("keys.bytes-per-key", totals.Keys == 0 ? 0 : used / totals.Keys);
        Integer("dataset.bytes", dataset);
        Double("dataset.percentage", used == 0 ? 0 : dataset * 100.0 / used);
        Double("peak.percentage", peak == 0 ? 0 : used * 100.0 / peak);
        Double("fragmentation", used == 0 ? 0 : (double)rss / used);
        Integer("fragmentation.bytes", rss - used);

        void Integer(string name, long value)
        {
            writer.WriteBulkString(name);
            writer.WriteInteger(value);
        }

        void Double(string name, double value)
        {
            writer.WriteBulkString(name);
            writer.WriteDouble(value);
        }
    }

    private static void ObjectCommand(ClientSession session, in Request request)
    {
        if (!TryResolve(session, request, "OBJECT", ObjectSubcommands, out var sub)) return;
        var writer = session.Writer;
        if (sub.Name == "HELP")
        {
            WriteHelp(session, "OBJECT", ObjectSubcommands);
            return;
        }

        var key = request[2];
        var table = session.Table(key);
        int id = table.Find(key, EntryTable.Hash(key), session.NowMs);
        if (id < 0)
        {
            writer.WriteNull(); // Redis 7 answers nil for a missing key
            return;
        }
        bool lfu = table.PolicyKind is EvictionPolicyKind.AllKeysLfu or EvictionPolicyKind.VolatileLfu;
        switch (sub.Name)
        {
            case "ENCODING":
                writer.WriteBulkString(StringEncoding(table.Value(id)));
                break;
            case "FREQ":
                if (!lfu)
                {
                    writer.WriteError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
                    return;
                }
                writer.WriteInteger(table.Frequency(id));
                break;
            case "IDLETIME":
                if (lfu)
                {
                    writer.WriteError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
                    return;
                }
                writer.WriteInteger(0); // access times are not kept per entry
                break;
            default: // REFCOUNT: values are never shared
                writer.WriteInteger(1);
                break;
        }
    }

    /// <summary>The encoding Redis would pick for a string value: "int" (a long in canonical form), "embstr" (up to 44 bytes) or "raw".</summary>
    internal static string StringEncoding(ReadOnlySpan<byte> value) =>
        value.Length <= 20 && RespNumbers.TryParseInt64(value, out _) ? "int"
        : value.Length <= 44 ? "embstr"
        : "raw";
}
