using System.Text;
using AkkaCache.Cluster.Replication;
using AkkaCache.Cluster.Sharding;
using AkkaCache.Cluster.Topology;
using AkkaCache.Core.Keyspace;
using AkkaCache.Core.Storage;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>
/// CLUSTER, ASKING, READONLY, READWRITE and WAIT for clients, and the AC.R* commands a primary's replication link
/// sends to its followers. The topology replies come from <see cref="ClusterTopology"/>, built once per map.
/// </summary>
internal static class ClusterCommands
{
    private const string Cluster = "cluster";
    private const string Disabled = "ERR This instance has cluster support disabled";
    private const CommandFlags Internal = CommandFlags.ClusterInternal | CommandFlags.ShardArgument | CommandFlags.Fast;

    public static void Register(List<CommandDefinition> list)
    {
        list.Add("CLUSTER", -2, CommandFlags.Stale, 0, 0, 0, ClusterCommand, Cluster, "A container for Redis Cluster commands.");
        list.Add("ASKING", 1, CommandFlags.Fast, 0, 0, 0, Asking, Cluster, "Signals that a cluster client is following an -ASK redirect.");
        list.Add("READONLY", 1, CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, ReadOnly, Cluster,
            "Enables read-only queries for a connection to a Redis Cluster replica node.");
        list.Add("READWRITE", 1, CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, ReadWrite, Cluster,
            "Enables read-write queries for a connection to a Redis Cluster replica node.");
        list.Add("WAIT", 3, CommandFlags.None, 0, 0, 0, Wait, "generic",
            "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.");

        list.Add(ReplicationCommands.Hello, 3, CommandFlags.ClusterInternal | CommandFlags.Fast, 0, 0, 0, ReplicationHello, Cluster, "Opens a replication link (node to node).");
        list.Add(ReplicationCommands.Sync, 2, Internal, 0, 0, 0, ReplicationSync, Cluster, "Starts a full sync of a shard (node to node).");
        list.Add(ReplicationCommands.Set, 6, Internal, 0, 0, 0, ReplicationSet, Cluster, "Replicates a key's state (node to node).");
        list.Add(ReplicationCommands.Delete, 4, Internal, 0, 0, 0, ReplicationDelete, Cluster, "Replicates a key's absence (node to node).");
        list.Add(ReplicationCommands.Clear, 3, Internal, 0, 0, 0, ReplicationClear, Cluster, "Replicates a flush of a shard (node to node).");
        list.Add(ReplicationCommands.Mark, 3, Internal, 0, 0, 0, ReplicationMark, Cluster, "Acknowledges replicated records (node to node).");
        list.Add("AC.RSIZES", 1, CommandFlags.ClusterInternal | CommandFlags.Fast, 0, 0, 0, ShardSizes, Cluster,
            "Live bytes of each shard this node leads (asked by the leader to move the smallest shards first).");
        list.Add("AC.ROFFSETS", 1, CommandFlags.ClusterInternal | CommandFlags.Fast, 0, 0, 0, ReplicationOffsets, Cluster,
            "How far this node has applied each shard's replication stream (asked by the leader before a failover).");
    }

    // ------------------------------------------------------------------ client-facing

    private static void ClusterCommand(ClientSession session, in Request request)
    {
        var agent = session.Node.Cluster;
        var sub = request[1];
        if (Ascii.EqualsIgnoreCase(sub, "KEYSLOT"u8))
        {
            // answered without cluster mode too: clients compute slots with it
            if (request.Count != 3) { WrongArity(session, "keyslot"); return; }
            session.Writer.WriteInteger(HashSlot.Of(request[2]));
            return;
        }
        if (agent is null)
        {
            // a cluster node that has not started joining is no standalone node: a client must not take it for one
            session.Writer.WriteError(session.Node.IsClusterMode ? "CLUSTERDOWN The cluster is down" : Disabled);
            return;
        }
        var topology = agent.Topology ?? EmptyTopology(session);
        var writer = session.Writer;
        if (Ascii.EqualsIgnoreCase(sub, "SLOTS"u8)) topology.WriteSlots(writer);
        else if (Ascii.EqualsIgnoreCase(sub, "SHARDS"u8)) topology.WriteShards(writer);
        else if (Ascii.EqualsIgnoreCase(sub, "NODES"u8)) topology.WriteNodes(writer);
        else if (Ascii.EqualsIgnoreCase(sub, "MYID"u8)) writer.WriteBulkString(agent.Settings.Self.RedisId);
        else if (Ascii.EqualsIgnoreCase(sub, "INFO"u8))
        {
            var stats = session.Node.Replication!.Stats();
            topology.WriteInfo(writer, new ClusterInfoCounters(agent.CanServe, stats.Migrating, stats.BytesSent, 0, 0));
        }
        else if (Ascii.EqualsIgnoreCase(sub, "COUNTKEYSINSLOT"u8)) KeysInSlot(session, request, count: true);
        else if (Ascii.EqualsIgnoreCase(sub, "GETKEYSINSLOT"u8)) KeysInSlot(session, request, count: false);
        else if (Ascii.EqualsIgnoreCase(sub, "DOWN"u8)) AdminCommands.Down(session, request);
        else if (Ascii.EqualsIgnoreCase(sub, "JOIN"u8)) AdminCommands.Join(session, request);
        else if (Ascii.EqualsIgnoreCase(sub, "LEAVE"u8))
        {
            session.Node.RequestLeave();
            writer.WriteOk();
        }
        else
        {
            writer.WriteError($"ERR unknown subcommand '{ClientSession.Printable(sub, 128)}'. Try CLUSTER HELP.");
        }
    }

    private static ClusterTopology EmptyTopology(ClientSession session)
    {
        var agent = session.Node.Cluster!;
        var map = ShardMap.Empty(session.Node.Engine.Shards.Length, agent.Settings.ReplicaCount) with { Members = [agent.Settings.Self] };
        return new ClusterTopology(map, agent.Settings.Self.Id);
    }

    private static void WrongArity(ClientSession session, string sub) =>
        session.Writer.WriteError($"ERR wrong number of arguments for 'cluster|{sub}' command");

    /// <summary>CLUSTER COUNTKEYSINSLOT slot / GETKEYSINSLOT slot count: read on the slot's shard actor, so the reply waits for it.</summary>
    private static void KeysInSlot(ClientSession session, in Request request, bool count)
    {
        if (request.Count != (count ? 3 : 4)) { WrongArity(session, count ? "countkeysinslot" : "getkeysinslot"); return; }
        if (!RespNumbers.TryParseInt64(request[2], out long slot) || slot is < 0 or >= HashSlot.Count)
        {
            session.Writer.WriteError("ERR Invalid or out of range slot");
            return;
        }
        long limit = long.MaxValue;
        if (!count && (!RespNumbers.TryParseInt64(request[3], out limit) || limit < 0))
        {
            session.Writer.WriteError("ERR Invalid number of keys");
            return;
        }
        int shard = session.Node.Engine.Layout.ShardOfSlot((int)slot);
        session.Defer(() => session.RunOnShardAsync(shard, table =>
        {
            var keys = new List<byte[]>();
            long found = 0;
            long now = session.NowMs;
            for (int id = table.NextLiveId(0); id >= 0 && found < limit; id = table.NextLiveId(id + 1))
            {
                if (table.IsExpired(id, now) || HashSlot.Of(table.Key(id)) != slot) continue;
                found++;
                if (!count) keys.Add(table.Key(id).ToArray());
            }
            if (count)
            {
                session.Writer.WriteInteger(found);
                return;
            }
            session.Writer.WriteArrayHeader(keys.Count);
            foreach (var key in keys) session.Writer.WriteBulkString(key);
        }));
    }

    private static void Asking(ClientSession session, in Request request)
    {
        if (session.Node.Cluster is null) { session.Writer.WriteError(Disabled); return; }
        session.Asking = true;
        session.Writer.WriteOk();
    }

    private static void ReadOnly(ClientSession session, in Request request)
    {
        if (session.Node.Cluster is null) { session.Writer.WriteError(Disabled); return; }
        session.ReplicaReads = true;
        session.Writer.WriteOk();
    }

    private static void ReadWrite(ClientSession session, in Request request)
    {
        if (session.Node.Cluster is null) { session.Writer.WriteError(Disabled); return; }
        session.ReplicaReads = false;
        session.Writer.WriteOk();
    }

    /// <summary>WAIT numreplicas timeout: how many replicas acknowledged this client's last write (0 ms = wait for ever, as Redis).</summary>
    private static void Wait(ClientSession session, in Request request)
    {
        if (!RespNumbers.TryParseInt64(request[1], out long needed) || needed < 0 || needed > int.MaxValue)
        {
            session.Writer.WriteError("ERR value is out of range, must be positive");
            return;
        }
        if (!RespNumbers.TryParseInt64(request[2], out long timeoutMs))
        {
            session.Writer.WriteError("ERR timeout is not an integer or out of range");
            return;
        }
        if (timeoutMs < 0)
        {
            session.Writer.WriteError("ERR timeout is negative");
            return;
        }
        var hub = session.Node.Replication;
        int shard = session.LastWriteShard;
        if (hub is null || shard < 0)
        {
            session.Writer.WriteInteger(0);
            return;
        }
        long seq = session.LastWriteSeq;
        int acknowledged = hub.CountAcknowledged(shard, seq);
        if (acknowledged >= needed)
        {
            session.Writer.WriteInteger(acknowledged);
            return;
        }
        var timeout = timeoutMs == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(timeoutMs);
        session.Defer(async () => session.Writer.WriteInteger(await hub.WaitForAcknowledgementsAsync(shard, seq, (int)needed, timeout)));
    }

    // ------------------------------------------------------------------ node to node (a replication link's session)

    private static void ReplicationHello(ClientSession session, in Request request)
    {
        if (session.Node.Cluster is null) { session.Writer.WriteError(Disabled); return; }
        if (!RespNumbers.TryParseInt64(request[2], out long incarnation))
        {
            session.Writer.WriteError("ERR invalid incarnation");
            return;
        }
        session.ReplicationSender = Encoding.UTF8.GetString(request[1]);
        session.ReplicationSenderIncarnation = incarnation;
        session.Writer.WriteOk();
    }

    /// <summary>The shard of an internal command, if this connection may write it: a known shard, from the node this one follows for it.</summary>
    private static bool Accept(ClientSession session, in Request request, out int shard, out EntryTable table)
    {
        shard = -1;
        table = null!;
        if (session.ReplicationSender is null)
        {
            session.Writer.WriteError($"ERR {Encoding.ASCII.GetString(request[0]).ToUpperInvariant()} is for replication links only (AC.RHELLO first)");
            return false;
        }
        var hub = session.Node.Replication;
        if (hub is null || !RespNumbers.TryParseInt64(request[1], out long index) || index < 0 || index >= session.Node.Engine.Shards.Length)
            return false;
        shard = (int)index;
        table = session.Node.Engine.Shards[shard].Table;
        if (hub.Follows(shard, session.ReplicationSender, session.ReplicationSenderIncarnation) && !session.IsRejected(shard)) return true;
        session.Reject(shard);
        return false;
    }

    private static void ReplicationSync(ClientSession session, in Request request)
    {
        session.ClearRejected(ParseShard(request));
        if (!Accept(session, request, out int shard, out var table)) return;
        table.Clear();
        session.Node.Replication!.OnApplied(shard, 0);
    }

    private static void ReplicationSet(ClientSession session, in Request request)
    {
        if (!Accept(session, request, out int shard, out var table)) return;
        if (!RespNumbers.TryParseInt64(request[2], out long seq) || !RespNumbers.TryParseInt64(request[5], out long expireAt))
        {
            session.Reject(shard);
            return;
        }
        var key = request[3];
        uint hash = EntryTable.Hash(key);
        long now = session.NowMs;
        // expiry is absolute: a record that is already due here only removes the key
        if (expireAt != 0 && expireAt <= now) table.Delete(key, hash, now);
        else if (table.Set(key, hash, request[4], expireAt, now, out _) != WriteStatus.Ok) table.Delete(key, hash, now);
        session.Node.Replication!.OnApplied(shard, seq);
        // clients reading this replica (READONLY) and tracking the key must hear of the primary's write
        if (session.Node.Tracking.IsOn) session.Node.Tracking.Invalidate(key, null);
    }

    private static void ReplicationDelete(ClientSession session, in Request request)
    {
        if (!Accept(session, request, out int shard, out var table)) return;
        if (!RespNumbers.TryParseInt64(request[2], out long seq)) { session.Reject(shard); return; }
        var key = request[3];
        table.Delete(key, EntryTable.Hash(key), session.NowMs);
        session.Node.Replication!.OnApplied(shard, seq);
        if (session.Node.Tracking.IsOn) session.Node.Tracking.Invalidate(key, null);
    }

    private static void ReplicationClear(ClientSession session, in Request request)
    {
        if (!Accept(session, request, out int shard, out var table)) return;
        if (!RespNumbers.TryParseInt64(request[2], out long seq)) { session.Reject(shard); return; }
        table.Clear();
        session.Node.Replication!.OnApplied(shard, seq);
        if (session.Node.Tracking.IsOn) session.Node.Tracking.InvalidateAll();
    }

    private static void ReplicationMark(ClientSession session, in Request request)
    {
        if (session.ReplicationSender is null)
        {
            Accept(session, request, out _, out _); // writes the refusal
            return;
        }
        RespNumbers.TryParseInt64(request[2], out long seq);
        int shard = ParseShard(request);
        bool accepted = Accept(session, request, out _, out _);
        session.Writer.WriteArrayHeader(3);
        session.Writer.WriteInteger(shard);
        session.Writer.WriteInteger(seq);
        session.Writer.WriteInteger(accepted ? ReplicationCommands.StatusApplied : ReplicationCommands.StatusRejected);
    }

    private static void ReplicationOffsets(ClientSession session, in Request request)
    {
        var hub = session.Node.Replication;
        var topology = session.Node.Cluster?.Topology;
        if (hub is null || topology is null)
        {
            session.Writer.WriteError(Disabled);
            return;
        }
        session.Writer.WriteArrayHeader(topology.ShardCount);
        for (int shard = 0; shard < topology.ShardCount; shard++)
        {
            session.Writer.WriteInteger(topology.RoleOf(shard) switch
            {
                ShardRole.Replica or ShardRole.Importing => hub.AppliedOf(shard),
                ShardRole.Primary => hub.SequenceOf(shard),
                _ => -1,
            });
        }
    }

    /// <summary>Read without entering the shards: a racy but whole 64-bit read, good enough to rank moves.</summary>
    private static void ShardSizes(ClientSession session, in Request request)
    {
        var topology = session.Node.Cluster?.Topology;
        if (topology is null)
        {
            session.Writer.WriteError(Disabled);
            return;
        }
        var shards = session.Node.Engine.Shards;
        session.Writer.WriteArrayHeader(topology.ShardCount);
        for (int shard = 0; shard < topology.ShardCount; shard++)
            session.Writer.WriteInteger(topology.RoleOf(shard) == ShardRole.Primary ? shards[shard].Table.LiveBytes : -1);
    }

    private static int ParseShard(in Request request) =>
        RespNumbers.TryParseInt64(request[1], out long shard) && shard is >= 0 and < int.MaxValue ? (int)shard : -1;
}
