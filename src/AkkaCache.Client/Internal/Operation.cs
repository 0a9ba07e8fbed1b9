using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Threading.Tasks.Sources;
using AkkaCache.Protocol;

namespace AkkaCache.Client.Internal;

/// <summary>
/// One call on its way to a node: the command encoded once as RESP (so redirects and retries resend the same bytes),
/// its slot, and the completion its caller awaits. Pooled: a GET or SET allocates nothing but its result. An operation
/// is owned by its caller and, while in flight, by the connection that sent it; it returns to the pool when both let go
/// (a timed-out call is answered at once, its reply still arrives later).
/// </summary>
internal sealed class Operation : IValueTaskSource<Reply>
{
    private static readonly ConcurrentQueue<Operation> Pool = new();
    private const int PoolLimit = 4096;
    private const int RetainedBufferSize = 64 * 1024;

    private ManualResetValueTaskSourceCore<Reply> _source = new() { RunContinuationsAsynchronously = true };
    private byte[] _command = new byte[256];
    private int _length;
    private int _completed;   // 1 once this attempt has its outcome
    private int _owners;
    private CancellationTokenRegistration _cancellation;
    // where the keys are in _command (start, length pairs): a write drops them from the near cache
    private int[] _keys = new int[4];
    private int _keyCount;

    public int Slot { get; private set; } = -1;
    public OperationKind Kind { get; private set; }
    public long Deadline { get; set; }         // Stopwatch timestamp after which the call times out
    public string? Name { get; private set; }  // the command, for errors and metrics

    public ReadOnlyMemory<byte> Command => _command.AsMemory(0, _length);

    public static Operation Rent(string name, OperationKind kind, int arguments)
    {
        if (!Pool.TryDequeue(out var operation)) operation = new Operation();
        operation._owners = 1;
        operation.Name = name;
        operation.Kind = kind;
        operation.Slot = -1;
        operation._length = 0;
        operation._keyCount = 0;
        operation.WriteHeader('*', arguments);
        operation.Add(name);
        return operation;
    }

    public void Add(string text)
    {
        int count = Encoding.UTF8.GetByteCount(text);
        WriteHeader('$', count);
        Encoding.UTF8.GetBytes(text, Reserve(count + 2));
        EndArgument(count);
    }

    public void Add(ReadOnlySpan<byte> bytes)
    {
        WriteHeader('$', bytes.Length);
        bytes.CopyTo(Reserve(bytes.Length + 2));
        EndArgument(bytes.Length);
    }

    /// <summary>One argument made of <paramref name="head"/> then <paramref name="tail"/>, copied straight into the command (no joined copy first).</summary>
    public void Add(ReadOnlySpan<byte> head, in ReadOnlySequence<byte> tail)
    {
        int count = checked(head.Length + (int)tail.Length);
        WriteHeader('$', count);
        var span = Reserve(count + 2);
        head.CopyTo(span);
        tail.CopyTo(span[head.Length..]);
        EndArgument(count);
    }

    public void Add(long number)
    {
        Span<byte> digits = stackalloc byte[20];
        int count = RespNumbers.FormatInt64(number, digits);
        Add(digits[..count]);
    }

    public void Add(CacheValue value)
    {
        if (value.Text is { } text) Add(text);
        else Add(value.Bytes.Span);
    }

    /// <summary>Adds a key and takes its slot (the last key's, for commands whose keys share one).</summary>
    public void AddKey(CacheKey key)
    {
        int start;
        if (key.Text is { } text)
        {
            int count = Encoding.UTF8.GetByteCount(text);
            WriteHeader('$', count);
            start = _length;
            Encoding.UTF8.GetBytes(text, Reserve(count + 2));
            EndArgument(count);
        }
        else
        {
            var bytes = key.Bytes.Span;
            WriteHeader('$', bytes.Length);
            start = _length;
            bytes.CopyTo(Reserve(bytes.Length + 2));
            EndArgument(bytes.Length);
        }
        Slot = HashSlot.Of(_command.AsSpan(start, _length - 2 - start));
        if (_keys.Length < 2 * _keyCount + 2) Array.Resize(ref _keys, _keys.Length * 2);
        _keys[2 * _keyCount] = start;
        _keys[2 * _keyCount + 1] = _length - 2 - start;
        _keyCount++;
    }

    public int KeyCount => _keyCount;

    /// <summary>The bytes of key <paramref name="index"/>, as added with <see cref="AddKey"/>.</summary>
    public ReadOnlySpan<byte> Key(int index) => _command.AsSpan(_keys[2 * index], _keys[2 * index + 1]);

    private void WriteHeader(char marker, int count)
    {
        var span = Reserve(1 + 11 + 2);
        span[0] = (byte)marker;
        int digits = RespNumbers.FormatInt64(count, span[1..]);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        _length += 3 + digits;
    }

    private Span<byte> Reserve(int count)
    {
        if (_command.Length - _length < count)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_command.Length * 2, _length + count));
            _command.AsSpan(0, _length).CopyTo(grown);
            if (_command.Length > 256) ArrayPool<byte>.Shared.Return(_command);
            _command = grown;
        }
        return _command.AsSpan(_length);
    }

    private void EndArgument(int count)
    {
        _command[_length + count] = (byte)'\r';
        _command[_length + count + 1] = (byte)'\n';
        _length += count + 2;
    }

    /// <summary>Makes the operation ready for one attempt; the connection it is handed to becomes an owner.</summary>
    public ValueTask<Reply> Arm()
    {
        _source.Reset();
        Volatile.Write(ref _completed, 0);
        Interlocked.Increment(ref _owners);
        return new ValueTask<Reply>(this, _source.Version);
    }

    /// <summary>Called once per attempt by the connection, with the reply or the connection's failure.</summary>
    public void Complete(in Reply reply)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0) _source.SetResult(reply);
    }

    public bool Fail(Exception error)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0) return false;
        _source.SetException(error);
        return true;
    }

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    public void WatchCancellation(CancellationToken cancellation)
    {
        if (cancellation.CanBeCanceled)
            _cancellation = cancellation.UnsafeRegister(static (state, token) => ((Operation)state!).Fail(new OperationCanceledException(token)), this);
    }

    /// <summary>One owner lets go: the caller when its call is over, or the connection once the reply (or failure) is in.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _owners) != 0) return;
        _cancellation.Dispose();
        _cancellation = default;
        if (_command.Length > RetainedBufferSize)
        {
            ArrayPool<byte>.Shared.Return(_command);
            _command = new byte[256];
        }
        if (Pool.Count < PoolLimit) Pool.Enqueue(this);
    }

    /// <summary>The caller's part of ending a call: no more cancellation callbacks, then let go.</summary>
    public void EndCall()
    {
        _cancellation.Dispose();
        _cancellation = default;
        Release();
    }

    Reply IValueTaskSource<Reply>.GetResult(short token) => _source.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<Reply>.GetStatus(short token) => _source.GetStatus(token);
    void IValueTaskSource<Reply>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}

/// <summary>What a failed connection means for a call: may it be sent again?</summary>
internal enum OperationKind
{
    /// <summary>Reads: sent again after a connection failure, and may go to a replica when replica reads are on.</summary>
    Read,
    /// <summary>Writes whose repetition changes nothing (SET, DEL, EXPIRE): sent again after a connection failure.</summary>
    IdempotentWrite,
    /// <summary>INCR, CAS, PUBLISH: never sent twice, since the first may have run.</summary>
    Write,
}
