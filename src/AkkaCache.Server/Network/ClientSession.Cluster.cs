using AkkaCache.Protocol;
using AkkaCache.Cluster.Replication;
using AkkaCache.Cluster.Topology;
using AkkaCache.Core.Keyspace;
using AkkaCache.Server.Commands;

namespace AkkaCache.Server.Network;

/// <summary>
/// The Redis Cluster contract on the request path: every key of a command in one slot (-CROSSSLOT), the slot's shard
/// held here as primary (else -MOVED, or -ASK while it is handed off), replica reads after READONLY, ASKING for a shard
/// being imported, and nothing at all once the lease cannot be vouched for (-CLUSTERDOWN). The ownership check runs
/// with the shards entered, so it is ordered with the hand-off step that runs on the shard actor.
/// </summary>
internal sealed partial class ClientSession
{
    private int _routedSlot = -1;          // slot of the current keyed command in cluster mode, else -1
    private Func<ValueTask>? _deferred;     // a reply that waits for something (WAIT, CLUSTER COUNTKEYSINSLOT)

    /// <summary>ASKING: the next command may run on a shard this node is importing.</summary>
    public bool Asking { get; set; }

    /// <summary>READONLY: reads of shards this node replicates are served here.</summary>
    public bool ReplicaReads { get; set; }

    /// <summary>Set by AC.RHELLO on a replication link: the node whose records this connection carries.</summary>
    public string? ReplicationSender { get; set; }
    public long ReplicationSenderIncarnation { get; set; }

    /// <summary>The shard and sequence number of this client's last replicated write, for WAIT.</summary>
    public int LastWriteShard { get; private set; } = -1;
    public long LastWriteSeq { get; private set; }

    /// <summary>The reply is written later by <paramref name="continuation"/>, which may await; the session waits for it before the next request.</summary>
    public void Defer(Func<ValueTask> continuation) => _deferred = continuation;

    /// <summary>
    /// In cluster mode, checks that the keys of a command share one slot and remembers it for the ownership check.
    /// False when it answered -CROSSSLOT.
    /// </summary>
    private bool CheckSlot(CommandDefinition command, in Request request)
    {
        _routedSlot = -1;
        if (!_node.IsClusterMode || !command.HasKeys || (command.Flags & CommandFlags.ClusterInternal) != 0) return true;
        if (_node.Cluster is null)
        {
            // cluster mode, before the control plane exists: never a standalone node, not even for a moment
            Writer.WriteError("CLUSTERDOWN The cluster is down");
            if (InTransaction) TransactionFailed = true;
            return false;
        }
        int last = command.LastKeyIndex(request.Count);
        int slot = -1;
        for (int i = command.FirstKey; i <= last; i += command.Step)
        {
            int keySlot = HashSlot.Of(request[i]);
            if (slot >= 0 && keySlot != slot)
            {
                Writer.WriteError("CROSSSLOT Keys in request don't hash to the same slot");
                if (InTransaction) TransactionFailed = true;
                return false;
            }
            slot = keySlot;
        }
        _routedSlot = slot;
        return true;
    }

    /// <summary>With the slot's shard entered: may this node run the command? If not, the redirect or refusal is written.</summary>
    private bool MayRun(CommandDefinition command, int slot)
    {
        var agent = _node.Cluster!;
        bool asking = Asking;
        Asking = false;
        var topology = agent.Topology;
        if (topology is null || !agent.Guard.IsValid)
        {
            Writer.WriteError("CLUSTERDOWN The cluster is down");
            return false;
        }
        int shard = _node.Engine.Layout.ShardOfSlot(slot);
        switch (topology.RoleOf(shard))
        {
            case ShardRole.Primary:
                var hub = _node.Replication!;
                var phase = hub.AnyHandoff ? hub.PhaseOf(shard) : HandoffPhase.None;
                // a newer map is being applied: it may already have ended this shard's hand-off and dropped its
                // entries, while the agent still shows the older map; the client asks again in a moment
                if (!ReferenceEquals(hub.Topology, topology))
                {
                    Writer.WriteError("TRYAGAIN The cluster map is changing, try again shortly");
                    return false;
                }
                switch (phase)
                {
                    case HandoffPhase.None:
                        return true;
                    case HandoffPhase.Draining:
                        Writer.WriteError("TRYAGAIN The slot is being handed over to another node, try again shortly");
                        return false;
                    default:
                        var target = topology.MigrationTargetEndpoint(shard);
                        // the map moved on between the phase and this read: the client retries against the new one
                        if (target.IsEmpty) Writer.WriteError("TRYAGAIN The slot is being handed over to another node, try again shortly");
                        else Redirect(command, slot, target, ask: true);
                        return false;
                }
            case ShardRole.Importing when asking:
                return true;
            case ShardRole.Replica when ReplicaReads && (command.Flags & CommandFlags.ReadOnly) != 0:
                return true;
        }
        var primary = topology.PrimaryEndpoint(shard);
        if (primary.IsEmpty)
        {
            Writer.WriteError("CLUSTERDOWN Hash slot not served");
            return false;
        }
        Redirect(command, slot, primary, ask: false);
        return false;
    }

    private ClusterProxy? _proxy;

    /// <summary>-MOVED / -ASK, or in proxy mode the owner's own answer (not inside MULTI: a transaction runs on one node).</summary>
    private void Redirect(CommandDefinition command, int slot, ReadOnlySpan<byte> endpoint, bool ask)
    {
        if (!_node.Options.IsClusterProxy || InTransaction || ReferenceEquals(command, TransactionCommands.Exec) || ReplicationSender is not null)
        {
            if (ask) ClusterTopology.WriteAskError(Writer, slot, endpoint);
            else ClusterTopology.WriteMovedError(Writer, slot, endpoint);
            return;
        }
        // the receive buffer is reused before the owner answers: the request travels as a copy
        var request = _buffer.Span.Slice(_requestStart, _requestLength).ToArray();
        string owner = System.Text.Encoding.ASCII.GetString(endpoint);
        _proxy ??= new ClusterProxy(_node.Options.RequirePass is null or "" ? null : _node.Options.RequirePass);
        var proxy = _proxy;
        Defer(() => proxy.ForwardAsync(owner, request, ask, Writer));
    }

    /// <summary>After a write on a primary: the resulting state of each key goes to the shard's replicas and migration target.</summary>
    private void Replicate(CommandDefinition command, in Request request)
    {
        var hub = _node.Replication!;
        var engine = _node.Engine;
        if ((command.Flags & CommandFlags.AllShards) != 0)
        {
            for (int i = 0; i < _shardCount; i++) hub.OnClear(_shards[i]);
            return;
        }
        int last = command.LastKeyIndex(request.Count);
        for (int i = command.FirstKey; i <= last; i += command.Step)
        {
            var key = request[i];
            int shard = engine.Layout.ShardOfKey(key);
            long seq = hub.OnWrite(shard, engine.Shards[shard].Table, key, NowMs);
            if (seq > 0)
            {
                LastWriteShard = shard;
                LastWriteSeq = seq;
            }
        }
    }

    /// <summary>Whether a whole-node command (KEYS, SCAN, DBSIZE, FLUSHALL) covers a shard: in a cluster, only those it leads.</summary>
    public bool Leads(int shard) => _node.Leads(shard);

    private HashSet<int>? _rejectedShards;   // a replication link's shards whose records were refused until the next sync

    public bool IsRejected(int shard) => _rejectedShards?.Contains(shard) == true;

    public void Reject(int shard) => (_rejectedShards ??= []).Add(shard);

    public void ClearRejected(int shard) => _rejectedShards?.Remove(shard);

    /// <summary>Runs <paramref name="action"/> on the shard's actor (for a deferred reply that reads one shard).</summary>
    public async ValueTask RunOnShardAsync(int shard, Action<Core.Storage.EntryTable> action)
    {
        var actor = _node.Engine.Shards[shard];
        if (!actor.TryEnter()) await actor.EnterAsync(_waiter);
        try
        {
            action(actor.Table);
        }
        finally
        {
            actor.Exit();
        }
    }
}
