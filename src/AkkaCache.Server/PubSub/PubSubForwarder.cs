using System.Buffers;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using AkkaCache.Cluster.Topology;
using AkkaCache.Protocol;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Server.PubSub;

/// <summary>
/// Cluster-wide PUBLISH, as on Redis Cluster's bus: a message published on this node is forwarded to every other member of
/// the current map as <c>AC.PUBLISHLOCAL channel message</c>, which delivers it to that node's subscribers only. One
/// long-lived, pipelined connection per peer keeps a peer's messages in publish order. Forwarding never blocks the
/// publisher: a message that does not fit a peer's bounded queue, or that is published while the peer is unreachable,
/// is dropped and counted, as Redis Cluster's bus drops messages to a failed node.
/// </summary>
internal sealed class PubSubForwarder(string selfId, string? password, Func<ClusterTopology?> currentTopology, ILogger? logger = null) : IAsyncDisposable
{
    private readonly ILogger _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private readonly object _gate = new();
    private ClusterTopology? _applied;
    private readonly Dictionary<string, PeerLink> _links = [];
    private PeerLink[] _peers = [];
    private long _droppedByRemovedLinks;
    private bool _disposed;

    /// <summary>Messages not forwarded to some peer (unreachable, or its queue full); INFO reports it.</summary>
    public long Dropped
    {
        get
        {
            long dropped = Volatile.Read(ref _droppedByRemovedLinks);
            foreach (var peer in Volatile.Read(ref _peers)) dropped += peer.Dropped;
            return dropped;
        }
    }

    /// <summary>Follows the current map (called when it changes, so links connect before the first message).</summary>
    public void Refresh()
    {
        if (currentTopology() is { } current && !ReferenceEquals(current, Volatile.Read(ref _applied))) Apply(current);
    }

    /// <summary>A link per other member, replaced when its endpoint changes, closed when it leaves.</summary>
    private void Apply(ClusterTopology topology)
    {
        List<PeerLink> closed = [];
        lock (_gate)
        {
            if (_disposed || _applied is not null && topology.Epoch < _applied.Epoch) return;
            Volatile.Write(ref _applied, topology);
            var wanted = new HashSet<string>();
            foreach (var member in topology.Map.Members)
            {
                if (member.Id == selfId) continue;
                wanted.Add(member.Id);
                if (_links.TryGetValue(member.Id, out var link) && link.Endpoint == member.Endpoint) continue;
                if (link is not null) closed.Add(link);
                _links[member.Id] = new PeerLink(member.Id, member.Host, member.Port, password, _logger);
            }
            foreach (var (id, link) in _links)
                if (!wanted.Contains(id)) closed.Add(link);
            foreach (var link in closed)
            {
                if (_links.TryGetValue(link.Id, out var current) && ReferenceEquals(current, link)) _links.Remove(link.Id);
                Interlocked.Add(ref _droppedByRemovedLinks, link.Dropped);
            }
            Volatile.Write(ref _peers, [.. _links.Values]);
        }
        foreach (var link in closed) _ = link.DisposeAsync().AsTask();
    }

    /// <summary>Queues the message for every peer; returns at once.</summary>
    public void Forward(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        // the map-change event runs after the new map is visible: a client that already saw a member (CLUSTER NODES)
        // must not publish past it, so the map is checked here too (one reference comparison while it is unchanged)
        Refresh();
        foreach (var peer in Volatile.Read(ref _peers)) peer.Enqueue(channel, message);
    }

    public async ValueTask DisposeAsync()
    {
        PeerLink[] links;
        lock (_gate)
        {
            _disposed = true;
            links = [.. _links.Values];
            _links.Clear();
            Volatile.Write(ref _peers, []);
        }
        foreach (var link in links) await link.DisposeAsync();
    }

    /// <summary>
    /// One peer. Publishers encode into the pending buffer under a short lock; the send loop swaps it with the one it
    /// sends from, so a burst of messages goes out in one write and no message costs a task or a queue node.
    /// </summary>
    private sealed class PeerLink : IAsyncDisposable
    {
        /// <summary>How much may wait for a slow or reconnecting peer before messages are dropped.</summary>
        private const int MaxPendingBytes = 16 * 1024 * 1024;

        private static readonly byte[] Hello = RespRequestEncoder.Encode("AC.PUBSUBHELLO");
        private static readonly byte[] CommandHeader = "*3\r\n$15\r\nAC.PUBLISHLOCAL\r\n"u8.ToArray();

        private readonly object _gate = new();
        private readonly string _host;
        private readonly int _port;
        private readonly string? _password;
        private readonly SendSignal _signal = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private ArrayBufferWriter<byte> _pending = new(4096);
        private ArrayBufferWriter<byte> _sending = new(4096);
        private int _pendingMessages;
        private bool _down;
        private long _dropped;

        private readonly ILogger _logger;

        public PeerLink(string id, string host, int port, string? password, ILogger logger)
        {
            _logger = logger;
            Id = id;
            _host = host;
            _port = port;
            _password = password;
            Endpoint = $"{host}:{port}";
            _loop = Task.Run(RunAsync);
        }

        public string Id { get; }
        public string Endpoint { get; }
        public long Dropped => Interlocked.Read(ref _dropped);

        public void Enqueue(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
        {
            int size = CommandHeader.Length + RespRequestEncoder.BulkLength(channel.Length) + RespRequestEncoder.BulkLength(message.Length);
            bool wake;
            lock (_gate)
            {
                if (_down || _pending.WrittenCount + size > MaxPendingBytes)
                {
                    _dropped++;
                    return;
                }
                wake = _pending.WrittenCount == 0;
                _pending.Write(CommandHeader);
                RespRequestEncoder.WriteBulk(_pending, channel);
                RespRequestEncoder.WriteBulk(_pending, message);
                _pendingMessages++;
            }
            if (wake) _signal.Set();
        }

        private async Task RunAsync()
        {
            var token = _stop.Token;
            while (!token.IsCancellationRequested)
            {
                using var connection = CancellationTokenSource.CreateLinkedTokenSource(token);
                try
                {
                    using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(_host, _port, token);
                    if (_password is not null) await SendAsync(socket, RespRequestEncoder.Encode("AUTH", _password), token);
                    await SendAsync(socket, Hello, token);
                    lock (_gate) _down = false;
                    var receive = DrainRepliesAsync(socket, connection);
                    using var wakeOnEnd = connection.Token.UnsafeRegister(static signal => ((SendSignal)signal!).Set(), _signal);
                    try
                    {
                        while (true)
                        {
                            await _signal.WaitAsync();
                            connection.Token.ThrowIfCancellationRequested();
                            lock (_gate)
                            {
                                (_pending, _sending) = (_sending, _pending);
                                _pendingMessages = 0;
                            }
                            await SendAsync(socket, _sending.WrittenMemory, connection.Token);
                            _sending.ResetWrittenCount();
                        }
                    }
                    finally
                    {
                        connection.Cancel();
                        socket.Close();
                        await receive;
                    }
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    // what was queued for the peer is stale by the time it is back: dropped, like whatever is published until then
                    bool wasUp;
                    lock (_gate)
                    {
                        wasUp = !_down;
                        _down = true;
                        _dropped += _pendingMessages;
                        _pendingMessages = 0;
                        _pending.ResetWrittenCount();
                        _sending.ResetWrittenCount();
                    }
                    // once per outage, not once per retry
                    if (wasUp) _logger.LogWarning("pub/sub link to {PeerId} ({Endpoint}): {Reason}; retrying, dropping messages to it meanwhile", Id, Endpoint, e.Message);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                try { await Task.Delay(250, token); }
                catch (OperationCanceledException) { break; }
            }
        }

        /// <summary>Reads and discards the peer's replies (a count each); an error reply means AUTH failed, and the link is cut.</summary>
        private async Task DrainRepliesAsync(Socket socket, CancellationTokenSource connection)
        {
            try
            {
                var replies = new RespReplyReader(socket);
                while (true)
                {
                    var reply = await replies.ReadRawAsync(connection.Token);
                    if (reply.Length > 0 && reply.Span[0] == (byte)'-')
                    {
                        _logger.LogWarning("a peer refused forwarded pub/sub messages: {Reply}", System.Text.Encoding.UTF8.GetString(reply.Span).TrimEnd());
                        break;
                    }
                }
            }
            catch (Exception)
            {
                // closed or reset: the send loop sees the cancellation below and reconnects
            }
            connection.Cancel();
        }

        private static async ValueTask SendAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
        {
            while (data.Length > 0)
            {
                int sent = await socket.SendAsync(data, SocketFlags.None, token);
                data = data[sent..];
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            try { await _loop; } catch (OperationCanceledException) { }
            _stop.Dispose();
        }
    }

    /// <summary>
    /// Wakes the one send loop waiting on it. Reused for every wake-up, and the wake-up runs as this very work item on the
    /// thread pool, so a publisher waking an idle link allocates nothing and never runs the send loop on its own thread
    /// (a SemaphoreSlim would allocate a task for each wait that has to wait).
    /// </summary>
    private sealed class SendSignal : IValueTaskSource, IThreadPoolWorkItem
    {
        private const int Idle = 0, Signalled = 1, Waiting = 2;

        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
        private int _state;

        public void Set()
        {
            while (true)
            {
                switch (Volatile.Read(ref _state))
                {
                    case Signalled:
                        return;
                    case Idle:
                        if (Interlocked.CompareExchange(ref _state, Signalled, Idle) == Idle) return;
                        break;
                    default:
                        if (Interlocked.CompareExchange(ref _state, Idle, Waiting) != Waiting) break;
                        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                        return;
                }
            }
        }

        /// <summary>Completes at the next <see cref="Set"/>, or at once if one came since the last wait. One waiter at a time.</summary>
        public ValueTask WaitAsync()
        {
            if (Interlocked.CompareExchange(ref _state, Idle, Signalled) == Signalled) return default;
            _core.Reset();
            if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle) return new ValueTask(this, _core.Version);
            // a Set came in between: consume it
            Volatile.Write(ref _state, Idle);
            return default;
        }

        void IThreadPoolWorkItem.Execute() => _core.SetResult(true);

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);
        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);
        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);
    }
}
