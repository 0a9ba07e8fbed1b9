using System.Diagnostics;
using System.Runtime.CompilerServices;
using AkkaCache.Client.Transport;
using AkkaCache.Protocol;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Client.Internal;

/// <summary>
/// One multiplexed, pipelined connection to a node. Any number of callers send concurrently: each appends its encoded
/// command to the send buffer and its operation to the in-flight ring under the connection's own lock, and the first
/// caller to find no flush running sends everything buffered, so concurrent calls share one write. A reader loop
/// matches replies to the ring in order. A broken connection fails its calls at once (never a hang) and is made again
/// on demand, with exponential backoff between failed attempts.
/// </summary>
internal sealed class NodeConnection : IAsyncDisposable
{
    private const int InitialBufferSize = 16 * 1024;
    private const int RetainedBufferSize = 256 * 1024;
    private static readonly byte[] AskingCommand = "*1\r\n$6\r\nASKING\r\n"u8.ToArray();

    private readonly ClientCore _core;
    private readonly object _gate = new();
    private INodeTransport? _transport;
    private State _state = State.Idle;
    private Task? _connecting;
    private long _retryAt;
    private int _failures;
    private Exception? _lastError;

    private byte[] _send = new byte[InitialBufferSize];
    private byte[] _sending = new byte[InitialBufferSize];
    private int _sendLength;
    private bool _flushing;

    // in-flight operations in send order; a null slot stands for a reply nobody waits for (ASKING's +OK)
    private Operation?[] _ring = new Operation?[64];
    private int _head;
    private int _count;

    private enum State { Idle, Connecting, Ready, Backoff, Disposed }

    public NodeConnection(ClientCore core, string endPoint)
    {
        _core = core;
        EndPoint = endPoint;
    }

    public string EndPoint { get; }

    public bool IsReady => Volatile.Read(ref Unsafe.As<State, int>(ref _state)) == (int)State.Ready;

    public int InFlight
    {
        get
        {
            lock (_gate) return _count;
        }
    }

    /// <summary>Completes when the connection is ready; throws <see cref="AkkaCacheConnectionException"/> at once while backing off.</summary>
    public Task ConnectAsync()
    {
        lock (_gate)
        {
            switch (_state)
            {
                case State.Ready:
                    return Task.CompletedTask;
                case State.Connecting:
                    return _connecting!;
                case State.Disposed:
                    throw new ObjectDisposedException(nameof(AkkaCacheClient));
                case State.Backoff when Stopwatch.GetTimestamp() < _retryAt:
                    long waitMs = (long)Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _retryAt).TotalMilliseconds;
                    throw new AkkaCacheConnectionException(EndPoint,
                        $"Cannot reach the node at {EndPoint} ({_lastError?.Message}); the next attempt is in {waitMs} ms.", _lastError);
            }
            _state = State.Connecting;
            _connecting = ConnectCoreAsync();
            return _connecting;
        }
    }

    /// <summary>Starts connecting unless connected, connecting, or backing off; nobody waits for it.</summary>
    public void ConnectInBackground()
    {
        lock (_gate)
        {
            if (_state is State.Ready or State.Connecting or State.Disposed) return;
            if (_state == State.Backoff && Stopwatch.GetTimestamp() < _retryAt) return;
        }
        try
        {
            ConnectAsync().ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (AkkaCacheException)
        {
            // entered backoff in between: the next read tries again
        }
    }

    private async Task ConnectCoreAsync()
    {
        INodeTransport? transport = null;
        var options = _core.Options;
        try
        {
            using var timeout = new CancellationTokenSource(options.ConnectTimeout);
            var inProcess = options.InProcessNode;
            transport = inProcess is not null && inProcess.EndPoint == EndPoint
                ? await inProcess.ConnectAsync(timeout.Token).ConfigureAwait(false)
                : await SocketTransport.ConnectAsync(EndPoint, timeout.Token).ConfigureAwait(false);
            await HandshakeAsync(transport, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            if (transport is not null) await transport.DisposeAsync().ConfigureAwait(false);
            var failure = error as AkkaCacheException ?? new AkkaCacheConnectionException(EndPoint,
                error is OperationCanceledException
                    ? $"Connecting to {EndPoint} timed out after {options.ConnectTimeout.TotalMilliseconds:0} ms."
                    : $"Cannot connect to {EndPoint}: {error.Message}", error);
            lock (_gate)
            {
                if (_state == State.Disposed) throw failure;
                EnterBackoff(failure);
            }
            _core.Diagnostics.ConnectFailed(EndPoint, failure);
            throw failure;
        }
        lock (_gate)
        {
            if (_state == State.Disposed)
            {
                _ = transport.DisposeAsync();
                throw new ObjectDisposedException(nameof(AkkaCacheClient));
            }
            _transport = transport;
            _state = State.Ready;
            // a connection made again: whatever was cached before it may have changed unseen
            _core.Near?.Clear();
            _failures = 0;
            _lastError = null;
        }
        _core.Diagnostics.Connected(EndPoint);
        _ = ReadLoopAsync(transport);
    }

    /// <summary>
    /// AUTH, READONLY, and for the near cache HELLO 3 and CLIENT TRACKING ON, before the connection carries calls; a
    /// refusal other than READONLY's is not worth retrying.
    /// </summary>
    private async Task HandshakeAsync(INodeTransport transport, CancellationToken cancellation)
    {
        var options = _core.Options;
        var commands = new List<string[]>();
        if (!string.IsNullOrEmpty(options.Password))
            commands.Add(options.User is { Length: > 0 } user ? ["AUTH", user, options.Password] : ["AUTH", options.Password]);
        if (options.ReadFromReplicas) commands.Add(["READONLY"]);
        if (_core.Near is not null)
        {
            // invalidation pushes need RESP3 on this very connection: the node tracks the keys each connection read
            commands.Add(["HELLO", "3"]);
            commands.Add(["CLIENT", "TRACKING", "ON"]);
        }
        if (commands.Count == 0) return;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var command in commands)
            AkkaCache.Protocol.RespRequestEncoder.Encode(buffer, command.Select(c => (ReadOnlyMemory<byte>)System.Text.Encoding.UTF8.GetBytes(c)).ToList());
        await transport.SendAsync(buffer.WrittenMemory, cancellation).ConfigureAwait(false);
        var receive = new byte[4096];
        int length = 0;
        for (int i = 0; i < commands.Count;)
        {
            if (Reply.TryRead(receive.AsSpan(0, length), out var reply, out int consumed))
            {
                // READONLY is refused by a standalone node, which serves reads anyway; a refused AUTH is fatal
                if (reply.IsError && commands[i][0] is "AUTH" or "HELLO" or "CLIENT")
                    throw new AkkaCacheException($"{EndPoint} refused {commands[i][0]}: {reply.Text}");
                receive.AsSpan(consumed, length - consumed).CopyTo(receive);
                length -= consumed;
                i++;
                continue;
            }
            int read = await transport.ReceiveAsync(receive.AsMemory(length), cancellation).ConfigureAwait(false);
            if (read == 0) throw new IOException("The node closed the connection during the handshake.");
            length += read;
        }
    }

    private void EnterBackoff(Exception error)
    {
        _state = State.Backoff;
        _lastError = error;
        var options = _core.Options;
        // the first reconnection is immediate (a restarted node or a dropped socket), then waits double up to the cap
        double delayMs = _failures == 0 ? 0 : Math.Min(options.ReconnectBackoffMax.TotalMilliseconds,
            options.ReconnectBackoffBase.TotalMilliseconds * Math.Pow(2, _failures - 1));
        _failures++;
        _retryAt = Stopwatch.GetTimestamp() + (long)(delayMs * Stopwatch.Frequency / 1000);
    }

    /// <summary>
    /// Queues an armed operation (after ASKING when <paramref name="asking"/>) and sends it, unless a flush already
    /// running will. False when the connection is not ready: the caller still owns the operation.
    /// </summary>
    public bool TrySend(Operation operation, bool asking)
    {
        lock (_gate)
        {
            if (_state != State.Ready) return false;
            if (asking)
            {
                Append(AskingCommand);
                Enqueue(null);
            }
            Append(operation.Command.Span);
            Enqueue(operation);
            if (_flushing) return true;
            _flushing = true;
        }
        _ = FlushAsync();
        return true;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_send.Length - _sendLength < bytes.Length)
            Array.Resize(ref _send, Math.Max(_send.Length * 2, _sendLength + bytes.Length));
        bytes.CopyTo(_send.AsSpan(_sendLength));
        _sendLength += bytes.Length;
    }

    private void Enqueue(Operation? operation)
    {
        if (_count == _ring.Length)
        {
            var grown = new Operation?[_ring.Length * 2];
            for (int i = 0; i < _count; i++) grown[i] = _ring[(_head + i) % _ring.Length];
            _ring = grown;
            _head = 0;
        }
        _ring[(_head + _count) % _ring.Length] = operation;
        _count++;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync()
    {
        INodeTransport? transport = null;
        try
        {
            while (true)
            {
                int length;
                lock (_gate)
                {
                    if (_sendLength == 0 || _state != State.Ready)
                    {
                        _flushing = false;
                        if (_sending.Length > RetainedBufferSize) _sending = new byte[InitialBufferSize];
                        return;
                    }
                    (_send, _sending) = (_sending, _send);
                    length = _sendLength;
                    _sendLength = 0;
                    transport = _transport!;
                }
                await transport.SendAsync(_sending.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception error)
        {
            lock (_gate) _flushing = false;
            if (transport is not null) Fail(transport, error);
        }
    }

    private async Task ReadLoopAsync(INodeTransport transport)
    {
        var buffer = new RespReceiveBuffer(InitialBufferSize);
        try
        {
            while (true)
            {
                int read = await transport.ReceiveAsync(buffer.FreeSpace(), CancellationToken.None).ConfigureAwait(false);
                if (read == 0) throw new IOException("The node closed the connection.");
                buffer.Received(read);
                while (Reply.TryRead(buffer.Unread, out var reply, out int consumed))
                {
                    buffer.Consume(consumed);
                    // out-of-band frames (RESP3 push): no call waits for them
                    if (reply.Type == RespType.Push)
                    {
                        if (reply.Value is { } push) _core.Near?.TryApplyPush(push);
                        continue;
                    }
                    Operation? operation;
                    lock (_gate)
                    {
                        if (_transport != transport) return;
                        if (_count == 0) throw new IOException("The node sent a reply nobody asked for.");
                        operation = _ring[_head];
                        _ring[_head] = null;
                        _head = (_head + 1) % _ring.Length;
                        _count--;
                    }
                    if (operation is null) continue;
                    operation.Complete(reply);
                    operation.Release();
                }
            }
        }
        catch (Exception error)
        {
            Fail(transport, error);
        }
    }

    /// <summary>The transport broke: every call in flight fails now, and the next call reconnects (after a backoff if this keeps happening).</summary>
    private void Fail(INodeTransport transport, Exception error)
    {
        Operation?[] failed;
        int count;
        lock (_gate)
        {
            if (_transport != transport) return;
            _transport = null;
            if (_state != State.Disposed) EnterBackoff(error);
            failed = _ring;
            count = _count;
            int head = _head;
            _ring = new Operation?[64];
            _head = 0;
            _count = 0;
            _sendLength = 0;
            // unroll the ring so the failures below need no arithmetic
            var ordered = new Operation?[count];
            for (int i = 0; i < count; i++) ordered[i] = failed[(head + i) % failed.Length];
            failed = ordered;
        }
        // invalidations sent while the connection was down are lost, so nothing near-cached can be trusted any more
        _core.Near?.Clear();
        transport.Abort();
        _ = transport.DisposeAsync();
        var failure = new AkkaCacheConnectionException(EndPoint, $"The connection to {EndPoint} was lost: {error.Message}", error);
        if (count > 0 || error is not IOException) _core.Diagnostics.ConnectionLost(EndPoint, error, count);
        for (int i = 0; i < count; i++)
        {
            if (failed[i] is not { } operation) continue;
            operation.Fail(failure);
            operation.Release();
        }
    }

    /// <summary>Fails the calls whose deadline has passed; their replies, if they come, are dropped.</summary>
    public void ExpireCalls(long now)
    {
        lock (_gate)
        {
            for (int i = 0; i < _count; i++)
            {
                var operation = _ring[(_head + i) % _ring.Length];
                if (operation is null || operation.Deadline > now || operation.IsCompleted) continue;
                // continuations run asynchronously, so failing under the lock runs no caller code here
                operation.Fail(_core.TimeoutError(operation, EndPoint));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        INodeTransport? transport;
        lock (_gate)
        {
            _state = State.Disposed;
            transport = _transport;
        }
        if (transport is not null) Fail(transport, new ObjectDisposedException(nameof(AkkaCacheClient)));
        if (_connecting is { } connecting)
        {
            try
            {
                await connecting.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // the connection attempt's failure is of no interest once the client is gone
            }
            lock (_gate) transport = _transport;
            if (transport is not null) Fail(transport, new ObjectDisposedException(nameof(AkkaCacheClient)));
        }
    }
}
