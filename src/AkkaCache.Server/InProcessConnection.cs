using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using AkkaCache.Server.Network;

namespace AkkaCache.Server;

/// <summary>
/// The application's end of a connection to a node running in this process (<see cref="NodeServer.ConnectInProcess"/>):
/// RESP requests in, RESP replies out, exactly as over TCP, but through two in-memory pipes instead of the network.
/// The node serves it like any client (AUTH, CLIENT LIST shows it with <c>addr=inproc:N</c>, CLIENT KILL closes it).
/// One receive and one send may run at the same time (a reader loop and a writer loop), not two of either.
/// </summary>
public sealed class InProcessConnection : IAsyncDisposable
{
    // about what a loopback socket buffers each way, so a client that pipelines before reading behaves as over TCP
    private const long PauseWriterThreshold = 1024 * 1024;
    private const long ResumeWriterThreshold = PauseWriterThreshold / 2;
    private const int MinimumSegmentSize = 16 * 1024;

    // continuations go to the thread pool, as socket completions do: inline, the node's session would run on the
    // application's thread (and the application's reply handling on the session's) and each could stall the other
    private static readonly PipeOptions Options = new(
        pool: MemoryPool<byte>.Shared,
        readerScheduler: PipeScheduler.ThreadPool,
        writerScheduler: PipeScheduler.ThreadPool,
        pauseWriterThreshold: PauseWriterThreshold,
        resumeWriterThreshold: ResumeWriterThreshold,
        minimumSegmentSize: MinimumSegmentSize,
        useSynchronizationContext: false);

    private readonly Pipe _requests = new(Options);   // application → node
    private readonly Pipe _replies = new(Options);    // node → application
    private volatile bool _clientAborted;
    private volatile bool _serverAborted;
    private int _disposed;

    internal InProcessConnection(string address, string localAddress)
    {
        Server = new ServerEnd(this, address, localAddress);
    }

    /// <summary>The node's end, run by a <see cref="ClientSession"/>.</summary>
    internal ClientConnection Server { get; }

    /// <summary>Receives reply bytes into <paramref name="buffer"/>; 0 once the node has closed the connection (QUIT, CLIENT KILL, node stopped), after <see cref="Abort"/> or disposal.</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation = default) =>
        Receive(_replies.Reader, buffer, serverSide: false, cancellation);

    /// <summary>Sends all of <paramref name="data"/>; throws <see cref="IOException"/> once the connection is closed.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation = default)
    {
        if (IsClosed(serverSide: false)) return ValueTask.FromException(Closed());
        var write = _requests.Writer.WriteAsync(data, cancellation);
        if (write.IsCompletedSuccessfully)
            return Failed(write.Result, serverSide: false) ? ValueTask.FromException(Closed()) : ValueTask.CompletedTask;
        return SendSlowAsync(write);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendSlowAsync(ValueTask<FlushResult> write)
    {
        if (Failed(await write, serverSide: false)) throw Closed();
    }

    /// <summary>Breaks the connection at once, from any thread: a pending receive returns 0, sends throw, the node drops the session.</summary>
    public void Abort()
    {
        _clientAborted = true;
        _replies.Reader.CancelPendingRead();     // our receive
        _requests.Writer.CancelPendingFlush();   // our send, if the node is not reading
        _requests.Reader.CancelPendingRead();    // the node's receive: the session ends
        _replies.Writer.CancelPendingFlush();    // the node's send, if we were not reading
    }

    /// <summary>
    /// Closes our end as closing a socket does: the node still reads and runs the requests already sent, then sees the
    /// connection closed; replies are dropped. A receive pending meanwhile returns 0.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _replies.Reader.CancelPendingRead();
            _requests.Writer.Complete();
            _replies.Reader.Complete();
        }
        return ValueTask.CompletedTask;
    }

    private bool IsClosed(bool serverSide) =>
        _clientAborted || (serverSide ? _serverAborted : Volatile.Read(ref _disposed) != 0);

    private static IOException Closed() => new("The in-process connection to the node is closed.");

    private bool Failed(FlushResult result, bool serverSide) => result.IsCompleted || result.IsCanceled || IsClosed(serverSide);

    /// <summary>
    /// Copies what the pipe holds into <paramref name="buffer"/>. Pipe reads are not allocated, nor (pooled builder) is
    /// the state of the slow path, so a round trip allocates nothing.
    /// </summary>
    private ValueTask<int> Receive(PipeReader reader, Memory<byte> buffer, bool serverSide, CancellationToken cancellation)
    {
        if (IsClosed(serverSide)) return new ValueTask<int>(0);
        if (reader.TryRead(out var result) && TryCopy(reader, in result, buffer.Span, serverSide, out int count)) return new ValueTask<int>(count);
        return ReceiveSlowAsync(reader, buffer, serverSide, cancellation);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReceiveSlowAsync(PipeReader reader, Memory<byte> buffer, bool serverSide, CancellationToken cancellation)
    {
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellation);
                if (TryCopy(reader, in result, buffer.Span, serverSide, out int count)) return count;
            }
        }
        catch (InvalidOperationException) when (IsClosed(serverSide))
        {
            return 0; // the application disposed its end while this receive was pending
        }
    }

    /// <summary>False when the read brought nothing and the connection is still open (an empty flush): read again.</summary>
    private bool TryCopy(PipeReader reader, in ReadResult result, Span<byte> buffer, bool serverSide, out int count)
    {
        var data = result.Buffer;
        bool closed = IsClosed(serverSide);
        if (closed || data.IsEmpty || buffer.IsEmpty)
        {
            reader.AdvanceTo(data.Start);
            count = 0;
            return closed || result.IsCompleted || result.IsCanceled || buffer.IsEmpty;
        }
        count = (int)Math.Min(data.Length, buffer.Length);
        data.Slice(0, count).CopyTo(buffer);
        reader.AdvanceTo(data.GetPosition(count));
        return true;
    }

    private sealed class ServerEnd(InProcessConnection pair, string address, string localAddress) : ClientConnection
    {
        public override string RemoteAddress { get; } = address;
        public override string LocalAddress { get; } = localAddress;

        protected override ValueTask<int> ReceiveCoreAsync(Memory<byte> buffer, CancellationToken cancellation) =>
            pair.Receive(pair._requests.Reader, buffer, serverSide: true, cancellation);

        protected override ValueTask<int> SendCoreAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation)
        {
            if (pair.IsClosed(serverSide: true)) return ValueTask.FromException<int>(Closed());
            var write = pair._replies.Writer.WriteAsync(data, cancellation);
            if (write.IsCompletedSuccessfully)
                return pair.Failed(write.Result, serverSide: true) ? ValueTask.FromException<int>(Closed()) : new ValueTask<int>(data.Length);
            return SendSlowAsync(write, data.Length);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<int> SendSlowAsync(ValueTask<FlushResult> write, int length)
        {
            if (pair.Failed(await write, serverSide: true)) throw Closed();
            return length;
        }

        public override void Abort()
        {
            // the session ends; the replies already sent stay readable, then the application reads 0, as after a socket close
            pair._serverAborted = true;
            pair._requests.Reader.CancelPendingRead();
            pair._replies.Writer.CancelPendingFlush();
        }

        public override void Dispose()
        {
            pair._requests.Reader.Complete();
            pair._replies.Writer.Complete();
        }
    }
}
