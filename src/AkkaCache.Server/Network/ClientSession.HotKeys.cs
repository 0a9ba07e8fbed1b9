using AkkaCache.Cluster.HotKeys;
using AkkaCache.Cluster.Topology;
using AkkaCache.Server.Commands;

namespace AkkaCache.Server.Network;

/// <summary>
/// Hot keys on the request path. On a node that does not own the key: GET / MGET / EXISTS / TTL / PTTL of promoted keys
/// are answered from the copies, without entering a shard and without a redirect. On the owner: a write to a promoted
/// key is acknowledged only once no copy can serve the old value (its reply waits for the barrier).
/// </summary>
internal sealed partial class ClientSession
{
    private List<HotBarrier>? _hotBarriers;
    private HotCopy[] _hotCopies = new HotCopy[4];   // the copies of a multi-key read, found before any is written

    /// <summary>Answers the read from hot-key copies if every key has one that may be served here; false to run it normally.</summary>
    private bool TryServeHotCopies(CommandDefinition command, in Request request)
    {
        var replicator = _node.HotKeys!;
        var agent = _node.Cluster!;
        if (Asking || agent.Topology is not { } topology || !agent.Guard.IsValid) return false;
        int shard = _node.Engine.Layout.ShardOfSlot(_routedSlot);
        // the owner answers from its own entries; a copy is for everyone else
        if (topology.RoleOf(shard) == ShardRole.Primary) return false;
        string? primary = topology.Map.Shards[shard].Primary;
        var copies = replicator.Copies;
        long now = replicator.Time.GetTimestamp();
        int last = command.LastKeyIndex(request.Count);
        if (last == command.FirstKey)
        {
            if (copies.Find(request[last], NowMs, now, primary) is not { } copy) return false;
            copy.Reads++;
            WriteFromCopy(command, copy);
        }
        else
        {
            // several keys: answered from copies only if all have one
            int count = last - command.FirstKey + 1;
            if (_hotCopies.Length < count) _hotCopies = new HotCopy[Math.Max(count, 2 * _hotCopies.Length)];
            for (int i = 0; i < count; i++)
                if ((_hotCopies[i] = copies.Find(request[command.FirstKey + i], NowMs, now, primary)!) is null) return false;
            bool mget = ReferenceEquals(command.Handler, MGetHandler);
            if (mget) Writer.WriteArrayHeader(count);
            for (int i = 0; i < count; i++)
            {
                _hotCopies[i].Reads++;
                if (mget) Writer.WriteBulkString(_hotCopies[i].Value);
            }
            if (!mget) Writer.WriteInteger(count); // EXISTS counts a key named twice twice
            Array.Clear(_hotCopies, 0, count);
        }
        Info.HotReads++;
        if (_node.Tracking.IsOn) TrackCommand(command, request);
        return true;
    }

    private void WriteFromCopy(CommandDefinition command, HotCopy copy)
    {
        if (ReferenceEquals(command.Handler, GetHandler))
        {
            Writer.WriteBulkString(copy.Value);
        }
        else if (ReferenceEquals(command.Handler, MGetHandler))
        {
            Writer.WriteArrayHeader(1);
            Writer.WriteBulkString(copy.Value);
        }
        else if (ReferenceEquals(command.Handler, ExistsHandler))
        {
            Writer.WriteInteger(1);
        }
        else if (copy.ExpireAtMs == 0)
        {
            Writer.WriteInteger(-1);
        }
        else
        {
            long remaining = copy.ExpireAtMs - NowMs;
            // TTL rounds to the nearest second, as Redis and the owner do
            Writer.WriteInteger(ReferenceEquals(command.Handler, PttlHandler) ? remaining : (remaining + 500) / 1000);
        }
    }

    private static readonly CommandHandler GetHandler = CommandTable.TryGet("GET"u8, out var get) ? get.Handler : null!;
    private static readonly CommandHandler MGetHandler = CommandTable.TryGet("MGET"u8, out var mget) ? mget.Handler : null!;
    private static readonly CommandHandler ExistsHandler = CommandTable.TryGet("EXISTS"u8, out var exists) ? exists.Handler : null!;
    private static readonly CommandHandler PttlHandler = CommandTable.TryGet("PTTL"u8, out var pttl) ? pttl.Handler : null!;

    /// <summary>On the owner, after a write with its shards entered: the promoted keys it changed go to every holder.</summary>
    private void SendHotWrites(HotKeyReplicator replicator, CommandDefinition command, in Request request)
    {
        var engine = _node.Engine;
        if ((command.Flags & CommandFlags.AllShards) != 0)
        {
            for (int i = 0; i < _shardCount; i++)
                if (replicator.OnClear(_shards[i]) is { } cleared) (_hotBarriers ??= []).Add(cleared);
            return;
        }
        int last = command.LastKeyIndex(request.Count);
        for (int i = command.FirstKey; i <= last; i += command.Step)
        {
            var key = request[i];
            int shard = engine.Layout.ShardOfKey(key);
            if (replicator.OnWrite(shard, engine.Shards[shard].Table, key, NowMs) is { } barrier) (_hotBarriers ??= []).Add(barrier);
        }
    }

    /// <summary>After the shards are left: the reply (already written) is sent only once every holder let go of the old value.</summary>
    private void DeferUntilHotCopiesUpdated()
    {
        if (_hotBarriers is not { Count: > 0 } barriers) return;
        var waits = barriers.ToArray();
        barriers.Clear();
        var replicator = _node.HotKeys!;
        var after = _deferred;
        Defer(async () =>
        {
            foreach (var barrier in waits) await replicator.WaitAsync(barrier);
            if (after is not null) await after();
        });
    }
}
