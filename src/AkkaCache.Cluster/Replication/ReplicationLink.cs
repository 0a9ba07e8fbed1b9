using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using AkkaCache.Cluster.Sharding;
using AkkaCache.Core.Actors;
using AkkaCache.Protocol;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Cluster.Replication;

/// <summary>
/// One connection from this node to a peer, carrying the streams of every shard the peer follows from us. A send loop
/// turns pending streams into batches (snapshots first for streams that need one); a receive loop reads the peer's
/// acknowledgements. A broken connection makes every stream resync once the link reconnects.
/// </summary>
internal sealed class ReplicationLink : IAsyncDisposable
{
    private const int SnapshotChunkBytes = 256 * 1024;
    private const int FlushThreshold = 256 * 1024;

    /// <summary>The sequence number of the mark that asks whether a snapshot would be accepted.</summary>
    private const long SyncProbe = -1;

    private readonly ReplicationHub _hub;
    private readonly ConcurrentQueue<ShardStream> _ready = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly ArrayBufferWriter<byte> _send = new(64 * 1024);
    private readonly ShardEntryWaiter _waiter = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly Dictionary<int, ShardStream> _streams = [];
    private readonly Task _loop;
    private Socket? _socket;

    private readonly ILogger _logger;

    public ReplicationLink(ReplicationHub hub, ClusterMember peer)
    {
        _logger = hub.LoggerFactory.CreateLogger<ReplicationLink>();
        _hub = hub;
        Peer = peer;
        _loop = Task.Run(RunAsync);
    }

    public ClusterMember Peer { get; private set; }

    public ShardStream AddStream(int shard, bool isMigration)
    {
        var stream = new ShardStream(shard, this, isMigration);
        lock (_gate) _streams[shard] = stream;
        Signal(stream);
        return stream;
    }

    public void RemoveStream(ShardStream stream)
    {
        stream.Removed = true;
        stream.StopCapture();
        lock (_gate)
        {
            if (_streams.TryGetValue(stream.Shard, out var current) && ReferenceEquals(current, stream)) _streams.Remove(stream.Shard);
        }
    }

    public void Signal(ShardStream stream)
    {
        if (Interlocked.Exchange(ref stream.Queued, 1) != 0) return;
        _ready.Enqueue(stream);
        _signal.Release();
    }

    /// <summary>Resends snapshots for streams the peer rejected or that overflowed (called periodically).</summary>
    public void RetryStale()
    {
        lock (_gate)
            foreach (var stream in _streams.Values)
                if (stream.NeedsSync || stream.MarkRequested) Signal(stream);
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(Peer.Host, Peer.Port, token);
                _socket = socket;
                lock (_gate)
                    foreach (var stream in _streams.Values)
                    {
                        stream.NeedsSync = true;
                        Signal(stream);
                    }
                _send.ResetWrittenCount();
                if (_hub.Password is { } password) _send.Write(RespRequestEncoder.Encode("AUTH", password));
                ReplicationCommands.WriteHello(_send, _hub.SelfId, _hub.SelfIncarnation);
                var receive = ReceiveAsync(socket, token);
                var send = SendLoopAsync(socket, token);
                var ended = await Task.WhenAny(receive, send);
                socket.Close();
                await Task.WhenAll(receive.ContinueWith(static _ => { }), send.ContinueWith(static _ => { }));
                if (!token.IsCancellationRequested)
                    _logger.LogWarning("replication link to {PeerId} ({Endpoint}) lost: {Reason}; reconnecting",
                        Peer.Id, Peer.Endpoint, ended.Exception?.GetBaseException().Message ?? "closed by the peer");
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // the peer is down or restarting: try again shortly; every stream resyncs on reconnect
                _logger.LogWarning("replication link to {PeerId} ({Endpoint}): {Reason}; retrying", Peer.Id, Peer.Endpoint, e.Message);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            _socket = null;
            lock (_gate)
                foreach (var stream in _streams.Values) stream.StopCapture();
            try { await Task.Delay(200, token); }
            catch (OperationCanceledException) { break; }
        }
    }

    private async Task SendLoopAsync(Socket socket, CancellationToken token)
    {
        await FlushAsync(socket, token);
        while (!token.IsCancellationRequested)
        {
            await _signal.WaitAsync(TimeSpan.FromSeconds(1), token);
            while (_ready.TryDequeue(out var stream))
            {
                Volatile.Write(ref stream.Queued, 0);
                if (stream.Removed) continue;
                if (stream.NeedsSync) await SendSnapshotAsync(socket, stream, token);
                long seq = stream.TakePending(_send);
                if (seq >= 0)
                {
                    stream.MarkRequested = false;
                    ReplicationCommands.WriteMark(_send, stream.Shard, seq);
                }
                if (_send.WrittenCount >= FlushThreshold)
                {
                    await FlushAsync(socket, token);
                    await Task.Yield();
                }
            }
            if (_send.WrittenCount > 0) await FlushAsync(socket, token);
        }
    }

    /// <summary>
    /// Streams the shard's live entries in chunks, entering the shard actor for each chunk so the shard keeps serving
    /// between them. Capture of live writes starts in the first chunk, at the snapshot's sequence number: a key written
    /// after its chunk was read also travels as a live record, sent after the snapshot.
    /// </summary>
    private async Task SendSnapshotAsync(Socket socket, ShardStream stream, CancellationToken token)
    {
        stream.NeedsSync = false;
        // ask first: a peer whose map does not yet name us would refuse every record of the snapshot
        var answer = stream.AskToSync();
        ReplicationCommands.WriteSync(_send, stream.Shard);
        ReplicationCommands.WriteMark(_send, stream.Shard, SyncProbe);
        await FlushAsync(socket, token);
        if (!await answer.WaitAsync(TimeSpan.FromSeconds(5), token).ContinueWith(static t => t.IsCompletedSuccessfully && t.Result, token))
        {
            stream.NeedsSync = true; // retried by the hub's periodic pass
            return;
        }
        var actor = _hub.Engine.Shards[stream.Shard];
        int nextId = 0;
        bool first = true;
        long snapshotSeq = 0;
        while (true)
        {
            if (!actor.TryEnter()) await actor.EnterAsync(_waiter);
            bool done;
            try
            {
                if (first)
                {
                    snapshotSeq = _hub.SequenceOf(stream.Shard);
                    stream.StartCapture(snapshotSeq);
                    first = false;
                }
                done = WriteChunk(actor, stream.Shard, snapshotSeq, ref nextId);
            }
            finally
            {
                actor.Exit();
            }
            long chunkBytes = _send.WrittenCount;
            await FlushAsync(socket, token);
            await PaceAsync(chunkBytes, token);
            if (done || stream.Removed) break;
        }
        ReplicationCommands.WriteMark(_send, stream.Shard, snapshotSeq);
    }

    private long _pacedBytes;
    private long _pacingStarted = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Keeps snapshots of this link under the hub's rate; also moves the loop off the socket engine's thread.</summary>
    private async ValueTask PaceAsync(long bytes, CancellationToken token)
    {
        long rate = _hub.SnapshotBytesPerSecond;
        if (rate <= 0)
        {
            await Task.Yield();
            return;
        }
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(_pacingStarted);
        if (elapsed > TimeSpan.FromSeconds(1))
        {
            // an idle link does not bank credit for a burst later
            _pacingStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            _pacedBytes = 0;
            elapsed = TimeSpan.Zero;
        }
        _pacedBytes += bytes;
        var due = TimeSpan.FromSeconds(_pacedBytes / (double)rate) - elapsed;
        if (due > TimeSpan.Zero) await Task.Delay(due, token);
        else await Task.Yield();
    }

    private bool WriteChunk(ShardActor actor, int shard, long seq, ref int nextId)
    {
        var table = actor.Table;
        long now = _hub.Engine.NowMs;
        int start = _send.WrittenCount;
        while (_send.WrittenCount - start < SnapshotChunkBytes)
        {
            int id = table.NextLiveId(nextId);
            if (id < 0) return true;
            nextId = id + 1;
            if (table.IsExpired(id, now)) continue;
            ReplicationCommands.WriteSet(_send, shard, seq, table.Key(id), table.Value(id), table.ExpireAt(id));
        }
        return false;
    }

    private async ValueTask FlushAsync(Socket socket, CancellationToken token)
    {
        if (_send.WrittenCount == 0) return;
        var data = _send.WrittenMemory;
        while (data.Length > 0)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, token);
            data = data[sent..];
        }
        _hub.AddBytesSent(_send.WrittenCount);
        _send.ResetWrittenCount();
    }

    private async Task ReceiveAsync(Socket socket, CancellationToken token)
    {
        var replies = new RespReplyReader(socket);
        while (!token.IsCancellationRequested) OnReply(await replies.ReadAsync(token));
    }

    private void OnReply(RespValue reply)
    {
        // +OK for the hello; [shard, seq, status] for every mark; an error means the peer refused the hello
        if (reply.IsError) throw new IOException("The peer refused the replication link: " + reply.AsString());
        if (reply.Type != RespType.Array || reply.Items is not { Count: 3 } items) return;
        int shard = (int)items[0].Integer;
        long seq = items[1].Integer;
        long status = items[2].Integer;
        ShardStream? stream;
        lock (_gate) _streams.TryGetValue(shard, out stream);
        if (stream is null) return;
        if (seq == SyncProbe)
        {
            stream.AnswerSync(status == ReplicationCommands.StatusApplied);
            return;
        }
        if (status == ReplicationCommands.StatusApplied)
        {
            stream.Acknowledge(seq);
            _hub.OnAcknowledged(stream);
        }
        else if (!stream.NeedsSync)
        {
            // the peer does not follow us for this shard (yet): its map may be behind ours; retried periodically
            stream.StopCapture();
            stream.NeedsSync = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket?.Close();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
