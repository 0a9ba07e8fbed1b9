using AkkaCache.Core.Actors;
using AkkaCache.Core.Storage;
using AkkaCache.Protocol;
using AkkaCache.Server.Commands;

namespace AkkaCache.Server.Network;

/// <summary>
/// One client connection, Garnet style: requests are parsed straight from the receive buffer, replies written
/// straight into the send pipe, and every pipelined request read in one go is answered with one flush.
/// A keyed command runs on the shard actors owning its keys: inline when they are idle, otherwise after
/// the shard's mailbox hands them over. Shards are always entered in ascending order, so multi-shard
/// commands (MSET, EXEC, FLUSHALL) cannot deadlock.
/// </summary>
internal sealed partial class ClientSession
{
    private readonly CacheNode _node;
    private readonly ClientConnection _connection;
    private readonly ShardEntryWaiter _waiter = new();
    private readonly RespArguments _args = new();

    private ReadOnlyMemory<byte> _buffer;   // the contiguous bytes being parsed
    private int _requestStart;              // offset of the current request in _buffer
    private int _requestLength;

    private int[] _shards = new int[8];     // shards the current command needs, ascending
    private int _shardCount;
    private int _enteredCount;              // _shards[0.._enteredCount) are entered
    private CommandDefinition? _pending;    // the command waiting for a shard hand-off

    public RespWriter Writer;

    private const int SendEarlyThreshold = 256 * 1024;
    private const int YieldAfterBytes = 64 * 1024;

    public ClientSession(CacheNode node, ClientInfo info, ClientConnection connection)
    {
        _node = node;
        Info = info;
        _connection = connection;
        Writer = new RespWriter(connection, RespVersion.Resp2);
        Authenticated = node.Options.RequirePass is null or "";
    }

    public CacheNode Node => _node;
    public ClientInfo Info { get; }
    public bool Authenticated { get; set; }
    public long NowMs { get; private set; }

    /// <summary>Set by QUIT, CLIENT KILL, or a protocol error: the connection closes once the replies so far are sent.</summary>
    public bool CloseRequested { get; set; }

    public RespVersion Protocol
    {
        get => Writer.Version;
        set
        {
            // messages already encoded in the old shapes go out ahead of the reply that switched
            _subscriber?.SwitchProtocol(value, _executingTransaction ? null : _connection);
            Writer.Version = value;
            Info.Protocol = (int)value;
        }
    }

    public async Task RunAsync(CancellationToken cancellation)
    {
        long waitFor = 0; // bytes the unfinished request at the start of the buffer needs at least
        try
        {
            while (!CloseRequested)
            {
                long queryBufferLimit = _node.Options.ClientQueryBufferLimitBytes;
                int received = _subscriber is { } subscriber && (subscriber.Count > 0 || subscriber.Tracking)
                    ? await ReceiveWhileSubscribedAsync(subscriber, queryBufferLimit, cancellation)
                    : await _connection.ReceiveAsync(queryBufferLimit, cancellation);
                if (received == 0) break;
                _connection.OnReceived(received);
                _buffer = _connection.Received;
                // a big request arriving in pieces: parse again only once enough of it is here
                if (_buffer.Length < waitFor) continue;
                waitFor = 0;

                // read per batch: CONFIG SET changes them for connected clients too
                var limits = _node.RequestLimits;
                _requestStart = 0;
                while (_requestStart < _buffer.Length && !CloseRequested)
                {
                    var status = RespRequestParser.TryParse(_buffer.Span[_requestStart..], in limits, _args, out int requestLength, out string? error);
                    if (status == RespParseStatus.Incomplete)
                    {
                        if (_buffer.Length - _requestStart > queryBufferLimit) QueryBufferOverflow();
                        else waitFor = RequestSize.LowerBound(_buffer.Span[_requestStart..]);
                        break;
                    }
                    if (status == RespParseStatus.Error)
                    {
                        Writer.WriteError("ERR " + error);
                        CloseRequested = true;
                        break;
                    }
                    _requestLength = requestLength;
                    if (_args.Count > 0 && Dispatch())
                        await CompletePendingAsync();
                    _requestStart += requestLength;
                    // a long pipeline of big replies is sent as it goes, so one client cannot pile up gigabytes of replies
                    if (_connection.PendingReplyBytes > SendEarlyThreshold) await FlushAsync(cancellation);
                }
                int processed = _requestStart;
                _connection.Consume(_requestStart);
                _buffer = default;
                // pipelined requests received together are answered with one send
                await FlushAsync(cancellation);
                // a connection streaming megabytes back to back (a replication link, a bulk load) would otherwise keep
                // the socket engine's thread under inline completions, and every client sharing it would wait: after a big batch the session goes on from the thread pool
                if (processed >= YieldAfterBytes) await Task.Yield();
            }
            await FlushAsync(cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            // the peer went away mid-request (an in-process connection reports it as an IOException): nothing to answer
        }
        finally
        {
            ExitShards();
            OnClosed();
        }
    }

    private void QueryBufferOverflow()
    {
        Writer.WriteError("ERR Protocol error: client query buffer exceeds client-query-buffer-limit");
        CloseRequested = true;
    }

    /// <summary>The current request, re-read from the buffer (spans cannot live across awaits).</summary>
    private Request CurrentRequest => new(_buffer.Span[_requestStart..], _args);

    /// <summary>Runs the current request; returns true when it waits for a shard hand-off (then <see cref="CompletePendingAsync"/>).</summary>
    private bool Dispatch()
    {
        var request = CurrentRequest;
        NowMs = _node.NowMs;
        Info.OnCommand(NowMs);
        if (!CommandTable.TryGet(request[0], out var command))
        {
            WriteUnknownCommand(request);
            return false;
        }
        Info.LastCommand = command.LowerName;
        if (_tracker is not null) TakeCachingFlag();
        if (!command.ArityMatches(request.Count))
        {
            Writer.WriteError($"ERR wrong number of arguments for '{command.LowerName}' command");
            if (InTransaction) TransactionFailed = true;
            OnRejected(command);
            return false;
        }
        if (!Authenticated && (command.Flags & CommandFlags.NoAuth) == 0)
        {
            Writer.WriteError("NOAUTH Authentication required.");
            OnRejected(command);
            return false;
        }
        if (_subscriber is not null && RefusedWhileSubscribed(command, request)) return false;
        if (!CheckSlot(command, request))
        {
            OnRejected(command);
            return false;
        }
        if (InTransaction && (command.Flags & CommandFlags.NotQueued) == 0)
        {
            if (_routedSlot >= 0 && !QueueSlot(command)) return false;
            Enqueue();
            return false;
        }
        return Run(command, request);
    }

    /// <summary>Enters the shards the command needs and runs it; true if a shard was busy and the rest happens asynchronously.</summary>
    private bool Run(CommandDefinition command, in Request request)
    {
        if (!command.HasKeys && (command.Flags & (CommandFlags.AllShards | CommandFlags.ShardArgument)) == 0 && !ReferenceEquals(command, TransactionCommands.Exec))
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp(), errors = Writer.ErrorReplies;
            command.Handler(this, request);
            Info.Commands++;
            OnExecuted(command, request, started, errors);
            return _deferred is not null;
        }
        if (_routedSlot >= 0 && (command.Flags & CommandFlags.HotCopyRead) != 0 && _node.HotKeys is { Copies.Count: > 0 })
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp(), errors = Writer.ErrorReplies;
            if (TryServeHotCopies(command, request))
            {
                Info.Commands++;
                OnExecuted(command, request, started, errors);
                return false;
            }
        }
        if (ReferenceEquals(command, TransactionCommands.Exec))
        {
            CollectTransactionShards();
            _routedSlot = _transactionSlot;
        }
        else CollectShards(command, request);
        if (!TryEnterShards())
        {
            _pending = command;
            return true;
        }
        Execute(command, request);
        return _deferred is not null;
    }

    private async ValueTask CompletePendingAsync()
    {
        if (_deferred is { } deferred)
        {
            _deferred = null;
            await deferred();
            return;
        }
        while (_enteredCount < _shardCount)
        {
            var shard = _node.Engine.Shards[_shards[_enteredCount]];
            await shard.EnterAsync(_waiter);
            _enteredCount++;
            // the rest may be idle now: enter them inline, else wait for the next hand-off
            TryEnterShards();
        }
        var command = _pending!;
        _pending = null;
        NowMs = _node.NowMs;
        Execute(command, CurrentRequest);
        if (_deferred is { } forward)
        {
            _deferred = null;
            await forward();
        }
    }

    private void Execute(CommandDefinition command, in Request request)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp(), errors = Writer.ErrorReplies;
        try
        {
            if (_routedSlot < 0 || MayRun(command, _routedSlot))
            {
                command.Handler(this, request);
                AfterCommand(command, request);
            }
            else if (ReferenceEquals(command, TransactionCommands.Exec))
            {
                DiscardTransaction();
            }
        }
        finally
        {
            ExitShards();
        }
        Info.Commands++;
        OnExecuted(command, request, started, errors);
        if (_hotBarriers is { Count: > 0 }) DeferUntilHotCopiesUpdated();
    }

    /// <summary>What follows every command run with its shards entered (EXEC's queued commands too): replication, hot keys, tracking.</summary>
    private void AfterCommand(CommandDefinition command, in Request request)
    {
        if ((command.Flags & (CommandFlags.Write | CommandFlags.ClusterInternal)) == CommandFlags.Write)
        {
            if (_node.Replication is not null && (command.Flags & CommandFlags.NotReplicated) == 0) Replicate(command, request);
            if (_node.HotKeys is { AnyPromoted: true } hotKeys) SendHotWrites(hotKeys, command, request);
        }
        RecordAccesses(command, request);
        if (_node.Tracking.IsOn) TrackCommand(command, request);
    }

    /// <summary>Counts the command's keys for hot-key detection, while their shards are still entered.</summary>
    private void RecordAccesses(CommandDefinition command, in Request request)
    {
        // reads and writes of clients' keys; not MEMORY/OBJECT's looks nor a peer's replication records
        if (!command.HasKeys || (command.Flags & (CommandFlags.Write | CommandFlags.ReadOnly)) == 0 || (command.Flags & CommandFlags.ClusterInternal) != 0) return;
        var engine = _node.Engine;
        int last = command.LastKeyIndex(request.Count);
        for (int i = command.FirstKey; i <= last; i += command.Step)
        {
            var key = request[i];
            if (engine.ShardOf(key).HotKeys is { } detector) detector.Record(key, EntryTable.Hash(key), NowMs);
        }
    }

    private void CollectShards(CommandDefinition command, in Request request)
    {
        _shardCount = 0;
        _enteredCount = 0;
        if ((command.Flags & CommandFlags.AllShards) != 0)
        {
            int count = _node.Engine.Shards.Length;
            EnsureShardCapacity(count);
            for (int i = 0; i < count; i++) _shards[i] = i;
            _shardCount = count;
            return;
        }
        if ((command.Flags & CommandFlags.ShardArgument) != 0)
        {
            // AC.RSYNC, AC.RCLEAR and AC.RMARK carry no key: the shard is their first argument
            if (RespNumbers.TryParseInt64(request[1], out long shard) && shard >= 0 && shard < _node.Engine.Shards.Length) AddShard((int)shard);
            return;
        }
        var layout = _node.Engine.Layout;
        int last = command.LastKeyIndex(request.Count);
        for (int i = command.FirstKey; i <= last; i += command.Step)
            AddShard(layout.ShardOfKey(request[i]));
    }

    /// <summary>Adds a shard to the ascending set of shards to enter (insertion sort: sets are tiny but for AllShards).</summary>
    internal void AddShard(int shard)
    {
        int position = _shardCount;
        while (position > 0 && _shards[position - 1] > shard) position--;
        if (position > 0 && _shards[position - 1] == shard) return;
        EnsureShardCapacity(_shardCount + 1);
        Array.Copy(_shards, position, _shards, position + 1, _shardCount - position);
        _shards[position] = shard;
        _shardCount++;
    }

    private void EnsureShardCapacity(int capacity)
    {
        if (_shards.Length < capacity) Array.Resize(ref _shards, Math.Max(capacity, _shards.Length * 2));
    }

    private bool TryEnterShards()
    {
        var shards = _node.Engine.Shards;
        while (_enteredCount < _shardCount)
        {
            var shard = shards[_shards[_enteredCount]];
            if (!(_node.InlineWhenIdle && shard.TryEnter())) return false;
            _enteredCount++;
        }
        return true;
    }

    private void ExitShards()
    {
        var shards = _node.Engine.Shards;
        for (int i = 0; i < _enteredCount; i++) shards[_shards[i]].Exit();
        _enteredCount = 0;
        _shardCount = 0;
    }

    /// <summary>The entries of the shard owning <paramref name="key"/>, which the running command has entered.</summary>
    public EntryTable Table(ReadOnlySpan<byte> key) => _node.Engine.ShardOf(key).Table;

    private void WriteUnknownCommand(in Request request)
    {
        var text = new System.Text.StringBuilder("ERR unknown command '");
        text.Append(Printable(request[0], 128)).Append("', with args beginning with: ");
        for (int i = 1; i < request.Count && i < 16; i++)
            text.Append('\'').Append(Printable(request[i], 128)).Append("' ");
        Writer.WriteError(text.ToString());
        if (InTransaction) TransactionFailed = true;
    }

    /// <summary>Request bytes shown in an error message: Latin-1, truncated, control characters as spaces (a reply line must not break).</summary>
    internal static string Printable(ReadOnlySpan<byte> bytes, int max)
    {
        var slice = bytes.Length > max ? bytes[..max] : bytes;
        return string.Create(slice.Length, slice.ToArray(), static (chars, data) =>
        {
            for (int i = 0; i < data.Length; i++) chars[i] = data[i] < 32 ? ' ' : (char)data[i];
        });
    }

    private void OnClosed()
    {
        if (_proxy is { } proxy) _ = proxy.DisposeAsync().AsTask();
        ClearWatches();
        OnClosedTracking();
        OnClosedPubSub();
        _node.Clients.Remove(Info);
    }
}
