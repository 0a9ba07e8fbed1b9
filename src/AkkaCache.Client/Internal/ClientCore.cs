using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using AkkaCache.Protocol;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Client.Internal;

/// <summary>
/// What every view of a client shares: the nodes and their connections, the slot map, and the routing loop that sends
/// an operation to the slot's owner and follows -MOVED / -ASK, retries -TRYAGAIN / -CLUSTERDOWN, and retries a lost
/// connection when the operation is safe to repeat, all within the call's deadline.
/// </summary>
internal sealed class ClientCore : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, NodeEntry> _nodes = new();
    private readonly Timer _timer;
    private readonly object _refreshGate = new();
    private Task? _refreshing;
    private long _nextPeriodicRefresh;
    private volatile SlotMap? _map;
    private volatile bool _disposed;

    public ClientCore(AkkaCacheClientOptions options, ILogger logger, System.Diagnostics.Metrics.IMeterFactory? meters)
    {
        options.Validate();
        Options = options;
        Logger = logger;
        Diagnostics = new ClientDiagnostics(logger, meters);
        if (options.NearCacheMaxEntries > 0) Near = new NearCache(options.NearCacheMaxEntries);
        HotKeys = new HotKeyRouting(this);
        // one timer for the whole client: deadlines of calls in flight, and the periodic slot-map refresh
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(options.OperationTimeout.TotalMilliseconds / 10, 10, 100));
        _timer = new Timer(static state => ((ClientCore)state!).OnTick(), this, tick, tick);
    }

    public AkkaCacheClientOptions Options { get; }
    public ILogger Logger { get; }
    public ClientDiagnostics Diagnostics { get; }
    /// <summary>Null unless <see cref="AkkaCacheClientOptions.NearCacheMaxEntries"/> turns it on.</summary>
    public NearCache? Near { get; }
    public HotKeyRouting HotKeys { get; }
    public SlotMap? Map => _map;
    public IEnumerable<NodeEntry> Nodes => _nodes.Values;

    public NodeEntry Node(string endPoint) =>
        _nodes.GetOrAdd(endPoint, static (key, core) => new NodeEntry(core, key, core.Options.ConnectionsPerNode), this);

    private void OnTick()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var node in _nodes.Values)
            foreach (var connection in node.Connections)
                connection.ExpireCalls(now);
        if (now >= Volatile.Read(ref _nextPeriodicRefresh) && _map is not null) RefreshInBackground();
        HotKeys.OnTick(now, _map);
    }

    public AkkaCacheTimeoutException TimeoutError(Operation operation, string? endPoint) => new(endPoint is null
        ? $"{operation.Name} timed out."
        : $"{operation.Name} timed out waiting for {endPoint} ({(operation.Kind == OperationKind.Read ? "nothing was changed" : "the write may or may not have been applied")}).");

    /// <summary>Reads the slot map from the seeds, one after the other, until one answers.</summary>
    public async Task ConnectAsync(CancellationToken cancellation)
    {
        await RefreshAsync(cancellation).ConfigureAwait(false);
        if (_map is null) throw new AkkaCacheConnectionException(Options.EndPoints, $"No node of '{Options.EndPoints}' could be reached.");
    }

    /// <summary>Starts a slot-map refresh unless one is running; the task fails with the last node's error when none answered.</summary>
    public Task RequestRefresh()
    {
        lock (_refreshGate)
        {
            if (_refreshing is { IsCompleted: false } running) return running;
            _refreshing = RefreshSharedAsync();
            return _refreshing;
        }
    }

    /// <summary>A refresh nobody waits for (after a redirect, a lost connection, or on the timer): failures are logged only.</summary>
    public void RefreshInBackground() =>
        RequestRefresh().ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private async Task RefreshSharedAsync()
    {
        // off the caller's thread, and never through its SynchronizationContext (a sync-over-async caller may block it)
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        try
        {
            await RefreshAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not ObjectDisposedException)
        {
            Diagnostics.TopologyFailed(error);
            throw;
        }
    }

    private async Task RefreshAsync(CancellationToken cancellation)
    {
        Volatile.Write(ref _nextPeriodicRefresh, Stopwatch.GetTimestamp() + (long)(Options.TopologyRefreshInterval.TotalSeconds * Stopwatch.Frequency));
        // the current primaries first (they know the latest map), then the seeds
        var candidates = new List<string>();
        if (_map is { } current) candidates.AddRange(current.Primaries().Select(n => n.EndPoint));
        foreach (var seed in Options.SeedEndPoints)
            if (!candidates.Contains(seed)) candidates.Add(seed);
        Exception? lastError = null;
        foreach (var endPoint in candidates)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(AkkaCacheClient));
            var node = Node(endPoint);
            try
            {
                var reply = await ExecuteOnAsync(node, ["CLUSTER", "SLOTS"], Options.ConnectTimeout, cancellation).ConfigureAwait(false);
                SlotMap map;
                if (reply.IsError)
                {
                    if (reply.Text?.Contains("cluster support disabled", StringComparison.OrdinalIgnoreCase) != true)
                        throw new AkkaCacheServerException("CLUSTER SLOTS", reply.Text ?? "");
                    map = SlotMap.Standalone(node);
                }
                else map = SlotMap.FromClusterSlots(reply.Value!, Node);
                var previous = _map;
                _map = map;
                Diagnostics.TopologyLoaded(endPoint, map.PrimaryCount, map.IsClustered, previous is null || !previous.SamePrimaries(map));
                return;
            }
            catch (Exception error) when (error is AkkaCacheException or TimeoutException or IOException)
            {
                lastError = error;
            }
        }
        throw lastError ?? new AkkaCacheConnectionException(Options.EndPoints, "No node to read the slot map from.");
    }

    /// <summary>A command sent to one given node, not routed by slot (CLUSTER SLOTS, PING of one node).</summary>
    public async Task<Reply> ExecuteOnAsync(NodeEntry node, string[] command, TimeSpan timeout, CancellationToken cancellation)
    {
        var operation = Operation.Rent(command[0], OperationKind.Read, command.Length);
        for (int i = 1; i < command.Length; i++) operation.Add(command[i]);
        return await ExecuteAsync(operation, timeout, cancellation, node).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends the operation where its slot lives and returns the final reply (an error reply is returned, not thrown, once
    /// it is not a redirect). Ends the caller's ownership of the operation.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Reply> ExecuteAsync(Operation operation, TimeSpan timeout, CancellationToken cancellation, NodeEntry? pinned = null)
    {
        long start = Stopwatch.GetTimestamp();
        operation.Deadline = start + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        operation.WatchCancellation(cancellation);
        // every write through this client, whichever API sent it: the node's push would come only after the reply,
        // and the caller's next read must not see the old value
        if (Near is { } near && operation.Kind != OperationKind.Read)
        {
            for (int i = 0; i < operation.KeyCount; i++) near.Remove(NearCache.KeyOf(operation.Key(i)));
        }
        var name = operation.Name!;
        try
        {
            NodeEntry? asking = null;
            int redirects = 0, retries = 0;
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                if (_disposed) throw new ObjectDisposedException(nameof(AkkaCacheClient));
                if (Stopwatch.GetTimestamp() >= operation.Deadline) throw TimeoutError(operation, null);
                // a client made by dependency injection reads its slot map on first use
                if (pinned is null && _map is null) await RequestRefresh().WaitAsync(Options.ConnectTimeout, cancellation).ConfigureAwait(false);
                var node = pinned ?? asking ?? Route(operation);
                var connection = node.NextReady();
                if (!connection.IsReady)
                {
                    try
                    {
                        await WaitConnectedAsync(connection, operation, cancellation).ConfigureAwait(false);
                    }
                    catch (AkkaCacheConnectionException error) when (pinned is null && _map is { IsClustered: true })
                    {
                        // nothing was sent, so even a write may try again: on the replica promoted in the node's place,
                        // which the next map shows (a standalone node has no stand-in: its callers learn at once)
                        RefreshInBackground();
                        asking = null;
                        await RetryDelayAsync(operation, ++retries, name, error.Message, cancellation).ConfigureAwait(false);
                        continue;
                    }
                }
                Reply reply;
                try
                {
                    var pending = operation.Arm();
                    if (!connection.TrySend(operation, asking is not null))
                    {
                        operation.Release();
                        continue;
                    }
                    reply = await pending.ConfigureAwait(false);
                }
                catch (AkkaCacheConnectionException error) when (pinned is null && operation.Kind != OperationKind.Write)
                {
                    // the node may be gone for good: its replica is promoted within a lease TTL, which the new map shows
                    RefreshInBackground();
                    asking = null;
                    await RetryDelayAsync(operation, ++retries, name, error.Message, cancellation).ConfigureAwait(false);
                    continue;
                }
                if (reply.IsError && pinned is null)
                {
                    var text = reply.Text!;
                    if (text.StartsWith("MOVED ", StringComparison.Ordinal) || text.StartsWith("ASK ", StringComparison.Ordinal))
                    {
                        if (++redirects > Options.MaxRedirects)
                            throw new AkkaCacheException($"{name} was redirected more than {Options.MaxRedirects} times; last: {text}");
                        var (kind, slot, target) = ParseRedirect(text);
                        var targetNode = Node(target);
                        Diagnostics.Redirected(kind, slot, target);
                        // nodes switch to a new map epoch a few milliseconds apart, and may send a call back and forth
                        // meanwhile: after the first redirects, each waits a little longer
                        if (redirects > 2) await RetryDelayAsync(operation, redirects - 2, name, text, cancellation).ConfigureAwait(false);
                        if (kind == "MOVED")
                        {
                            asking = null;
                            _map?.Moved(slot, targetNode);
                            RefreshInBackground();
                        }
                        else asking = targetNode;
                        continue;
                    }
                    if (text.StartsWith("TRYAGAIN", StringComparison.Ordinal) || text.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
                        || text.StartsWith("LOADING", StringComparison.Ordinal))
                    {
                        if (text.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)) RefreshInBackground();
                        // -TRYAGAIN during a hand-off is followed by -ASK on the same node, so the ASK target is kept
                        await RetryDelayAsync(operation, ++retries, name, text, cancellation).ConfigureAwait(false);
                        continue;
                    }
                }
                Diagnostics.Completed(name, start, !reply.IsNull);
                return reply;
            }
        }
        catch (Exception error)
        {
            Diagnostics.Failed(name, error);
            throw;
        }
        finally
        {
            operation.EndCall();
        }
    }

    private SlotOwner? OwnerOf(int slot)
    {
        var map = _map ?? throw new AkkaCacheConnectionException(Options.EndPoints, "The client has no slot map yet.");
        return slot < 0 ? map[0] : map[slot];
    }

    private NodeEntry Route(Operation operation)
    {
        var owner = OwnerOf(operation.Slot)
            ?? throw new AkkaCacheException($"Slot {operation.Slot} is not served by any node (the cluster is down or still forming).");
        if (operation.Kind == OperationKind.Read && operation.KeyCount > 0 && HotKeys.Contains(operation.Key(0))
            && HotKeyRouting.IsCopyRead(operation.Name!) && HotKeys.NextNode(_map!) is { } anyNode)
        {
            Diagnostics.HotRead();
            return anyNode;
        }
        if (Options.ReadFromReplicas && operation.Kind == OperationKind.Read)
        {
            var reader = owner.NextReader();
            if (reader == owner.Primary) return reader;
            var connection = reader.NextReady();
            if (connection.IsReady) return reader;
            // a replica not connected yet is connected in the background and skipped meanwhile, never waited for
            connection.ConnectInBackground();
        }
        return owner.Primary;
    }

    private async Task WaitConnectedAsync(NodeConnection connection, Operation operation, CancellationToken cancellation)
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), operation.Deadline);
        if (remaining <= TimeSpan.Zero) throw TimeoutError(operation, connection.EndPoint);
        try
        {
            await connection.ConnectAsync().WaitAsync(remaining, cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw TimeoutError(operation, connection.EndPoint);
        }
    }

    private async Task RetryDelayAsync(Operation operation, int attempt, string name, string reason, CancellationToken cancellation)
    {
        Diagnostics.Retried(name, reason);
        var delay = TimeSpan.FromMilliseconds(Math.Min(1000, Options.RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 10))));
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), operation.Deadline);
        if (remaining <= TimeSpan.Zero)
            throw new AkkaCacheTimeoutException($"{name} timed out; the last attempt failed with: {reason}");
        await Task.Delay(delay < remaining ? delay : remaining, cancellation).ConfigureAwait(false);
    }

    internal static (string Kind, int Slot, string Target) ParseRedirect(string error)
    {
        var parts = error.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3 || !int.TryParse(parts[1], out int slot) || slot is < 0 or >= HashSlot.Count)
            throw new AkkaCacheException($"Malformed redirect from the node: {error}");
        var target = parts[2];
        // Redis 7 may answer ":port" when the node's address is unknown to it (the node that answered)
        if (target.StartsWith(':')) throw new AkkaCacheException($"The node redirected to an address without host: {error}");
        return (parts[0], slot, target);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _timer.DisposeAsync().ConfigureAwait(false);
        foreach (var node in _nodes.Values)
            foreach (var connection in node.Connections)
                await connection.DisposeAsync().ConfigureAwait(false);
        Diagnostics.Dispose();
    }
}
