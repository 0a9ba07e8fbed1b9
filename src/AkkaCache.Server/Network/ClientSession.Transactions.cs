using AkkaCache.Core.Storage;
using AkkaCache.Protocol;
using AkkaCache.Server.Commands;

namespace AkkaCache.Server.Network;

/// <summary>MULTI/EXEC/WATCH state. EXEC enters every shard its commands and watched keys live on, so it is atomic.</summary>
internal sealed partial class ClientSession
{
    private readonly List<byte[]> _queued = [];
    private readonly List<(byte[] Key, long Version)> _watched = [];
    private RespArguments? _queuedArgs;

    public bool InTransaction { get; private set; }

    /// <summary>A command was refused while queueing: EXEC answers EXECABORT.</summary>
    public bool TransactionFailed { get; set; }

    private int _transactionSlot = -1;      // cluster mode: the one slot every queued command's keys are in

    public void BeginTransaction()
    {
        _transactionSlot = -1;
        InTransaction = true;
        TransactionFailed = false;
        _queued.Clear();
        Info.InTransaction = true;
        Info.TransactionLength = 0;
    }

    public void DiscardTransaction()
    {
        InTransaction = false;
        TransactionFailed = false;
        _queued.Clear();
        Info.InTransaction = false;
        ClearWatches();
    }

    /// <summary>Cluster mode: a transaction runs on one slot of a shard this node leads (checked again by EXEC).</summary>
    private bool QueueSlot(CommandDefinition command)
    {
        if (_transactionSlot >= 0 && _routedSlot != _transactionSlot)
        {
            Writer.WriteError("CROSSSLOT Keys in request don't hash to the same slot");
            TransactionFailed = true;
            return false;
        }
        if (!MayRun(command, _routedSlot))
        {
            TransactionFailed = true;
            return false;
        }
        _transactionSlot = _routedSlot;
        return true;
    }

    /// <summary>Keeps a copy of the request's bytes: the receive buffer is reused before EXEC.</summary>
    private void Enqueue()
    {
        _queued.Add(_buffer.Span.Slice(_requestStart, _requestLength).ToArray());
        Info.TransactionLength = _queued.Count;
        Writer.WriteSimpleString("QUEUED");
    }

    /// <summary>
    /// Remembers what EXEC checks for a key: its version, or for an absent key the shard's insertion count
    /// (stored negated, below -1, so the two cannot be confused). Runs with the key's shard entered.
    /// </summary>
    public void Watch(ReadOnlySpan<byte> key)
    {
        var table = Table(key);
        int id = table.Find(key, EntryTable.Hash(key), NowMs);
        _watched.Add((key.ToArray(), WatchStamp(table, id)));
        Info.WatchedKeys = _watched.Count;
    }

    private static long WatchStamp(EntryTable table, int id) => id >= 0 ? table.Version(id) : -2 - table.Insertions;

    public void ClearWatches()
    {
        _watched.Clear();
        Info.WatchedKeys = 0;
    }

    /// <summary>EXEC's shards: those of every queued command and every watched key.</summary>
    internal void CollectTransactionShards()
    {
        _shardCount = 0;
        _enteredCount = 0;
        var layout = _node.Engine.Layout;
        foreach (var (key, _) in _watched) AddShard(layout.ShardOfKey(key));
        _queuedArgs ??= new RespArguments();
        var limits = _node.RequestLimits;
        foreach (var raw in _queued)
        {
            RespRequestParser.TryParse(raw, in limits, _queuedArgs, out _, out _);
            var request = new Request(raw, _queuedArgs);
            if (!CommandTable.TryGet(request[0], out var command)) continue;
            if ((command.Flags & CommandFlags.AllShards) != 0)
            {
                for (int i = 0; i < _node.Engine.Shards.Length; i++) AddShard(i);
                continue;
            }
            if (!command.HasKeys) continue;
            int last = command.LastKeyIndex(request.Count);
            for (int i = command.FirstKey; i <= last; i += command.Step) AddShard(layout.ShardOfKey(request[i]));
        }
    }

    /// <summary>Runs the queued commands with all their shards entered; their replies form EXEC's array.</summary>
    internal void ExecuteTransaction()
    {
        var queued = _queued.ToArray();
        bool failed = TransactionFailed;
        bool watchedChanged = WatchedKeysChanged();
        InTransaction = false;
        TransactionFailed = false;
        _queued.Clear();
        Info.InTransaction = false;
        ClearWatches();

        if (failed)
        {
            Writer.WriteError("EXECABORT Transaction discarded because of previous errors.");
            return;
        }
        if (watchedChanged)
        {
            Writer.WriteNullArray();
            return;
        }
        Writer.WriteArrayHeader(queued.Length);
        var limits = _node.RequestLimits;
        _queuedArgs ??= new RespArguments();
        _executingTransaction = true;
        try
        {
            foreach (var raw in queued)
            {
                RespRequestParser.TryParse(raw, in limits, _queuedArgs, out _, out _);
                var request = new Request(raw, _queuedArgs);
                CommandTable.TryGet(request[0], out var command);
                long started = System.Diagnostics.Stopwatch.GetTimestamp(), errors = Writer.ErrorReplies;
                command.Handler(this, request);
                AfterCommand(command, request);
                Info.Commands++;
                OnExecuted(command, request, started, errors);
            }
        }
        finally
        {
            _executingTransaction = false;
        }
    }

    private bool WatchedKeysChanged()
    {
        foreach (var (key, version) in _watched)
        {
            var table = Table(key);
            int id = table.Find(key, EntryTable.Hash(key), NowMs);
            // an absent key stays valid only if nothing was created in its shard meanwhile: it may have come and gone
            if (WatchStamp(table, id) != version) return true;
        }
        return false;
    }
}
