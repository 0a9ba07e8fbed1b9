using System.Buffers;
using AkkaCache.Protocol;

namespace AkkaCache.Server.PubSub;

/// <summary>
/// The pub/sub side of one connection: its subscriptions and its outbox, where publishers (on their own sessions'
/// threads) encode messages for it. Only the connection's own session moves the outbox into its send buffer, at a
/// reply boundary, so pushed messages and replies never interleave mid-frame and the send buffer keeps one writer.
/// A publisher takes this subscriber's lock for the time of one copy and never waits for its socket; a subscriber
/// that does not read is disconnected once its output passes the pubsub client-output-buffer-limit.
/// </summary>
/// <remarks>
/// The subscription sets are guarded by the same lock as the outbox: a publisher that found this subscriber in a
/// channel's list checks, under the lock, that it is still subscribed. Together with the session draining the
/// outbox right after an unsubscription, no message of a channel can follow the confirmation of leaving it (a
/// RESP2 client back in normal mode would take such a message for the reply to its next command).
/// </remarks>
internal sealed class Subscriber
{
    private const int InitialOutboxSize = 1024;
    // outboxes grown by a burst are given back once drained, so idle subscribers stay small
    private const int RetainedOutboxSize = 16 * 1024;
    // a class configured without limits still stops short of what one array can hold: past this the subscriber is cut off
    private const long MaxOutboxBytes = 1L << 30;

    private readonly object _gate = new();
    private readonly Action _disconnect;
    private readonly Outbox _outbox = new();
    private readonly RespWriter _writer;
    private readonly HashSet<Subscription> _channels = [];
    private readonly HashSet<Subscription> _patterns = [];
    private byte[]? _spare;
    private long _sending;                 // bytes drained into the session's send buffer and not yet sent
    private long _overSoftLimitSinceMs = -1;
    private TaskCompletionSource? _wake;
    private bool _closed;
    private volatile int _channelCount;
    private volatile int _patternCount;

    public Subscriber(Action disconnect, RespVersion protocol)
    {
        _disconnect = disconnect;
        _writer = new RespWriter(_outbox, protocol);
    }

    public int ChannelCount => _channelCount;

    public int PatternCount => _patternCount;

    /// <summary>Channels and patterns: the count subscribe confirmations carry.</summary>
    public int Count => _channelCount + _patternCount;

    /// <summary>Output bytes not yet on the wire: the outbox and what the session is still sending (CLIENT LIST omem).</summary>
    public long PendingBytes
    {
        get
        {
            lock (_gate) return _outbox.Length + _sending;
        }
    }

    /// <summary>Set when the output limit cut this subscriber off: it takes no more messages.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_gate) return _closed;
        }
    }

    // ------------------------------------------------------------------ subscriptions (changed by the registry, under its lock)

    internal bool Add(Subscription subscription)
    {
        lock (_gate)
        {
            if (!SetOf(subscription).Add(subscription)) return false;
            UpdateCounts();
            return true;
        }
    }

    internal bool Remove(Subscription subscription)
    {
        lock (_gate)
        {
            if (!SetOf(subscription).Remove(subscription)) return false;
            UpdateCounts();
            return true;
        }
    }

    internal Subscription[] Snapshot(bool patterns)
    {
        lock (_gate) return [.. patterns ? _patterns : _channels];
    }

    private HashSet<Subscription> SetOf(Subscription subscription) => subscription.IsPattern ? _patterns : _channels;

    private void UpdateCounts()
    {
        _channelCount = _channels.Count;
        _patternCount = _patterns.Count;
    }

    // ------------------------------------------------------------------ publisher side

    /// <summary>
    /// Encodes one message ("message" for a channel subscription, "pmessage" for a pattern) into the outbox and wakes
    /// the session. False when the subscriber no longer listens through <paramref name="via"/> (or was cut off).
    /// </summary>
    public bool Deliver(Subscription via, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, OutputBufferLimit limit, long nowMs)
    {
        TaskCompletionSource? wake;
        bool overLimit;
        lock (_gate)
        {
            if (_closed || !SetOf(via).Contains(via)) return false;
            long frameBound = 64L + via.Name.Length + channel.Length + message.Length;
            overLimit = _outbox.Length + frameBound > MaxOutboxBytes;
            if (!overLimit)
            {
                if (via.IsPattern)
                {
                    _writer.WritePushHeader(4);
                    _writer.WriteBulkString("pmessage"u8);
                    _writer.WriteBulkString(via.Name);
                }
                else
                {
                    _writer.WritePushHeader(3);
                    _writer.WriteBulkString("message"u8);
                }
                _writer.WriteBulkString(channel);
                _writer.WriteBulkString(message);
                overLimit = IsOverLimit(limit, nowMs);
            }
            wake = TakeWakeLocked(close: overLimit);
        }
        AfterFrame(wake, overLimit);
        return true;
    }

    /// <summary>
    /// CLIENT TRACKING: set while this connection tracks keys, so its session waits for pushes as a subscriber does
    /// even with no channel subscribed.
    /// </summary>
    public volatile bool Tracking;

    private static readonly byte[] InvalidateChannel = "__redis__:invalidate"u8.ToArray();

    /// <summary>
    /// Encodes one tracking invalidation (Redis's sendTrackingMessage): a <c>invalidate</c> push in RESP3; in RESP2 a
    /// <c>__redis__:invalidate</c> message, which only a subscribed connection (a REDIRECT target) can take, else it
    /// is dropped. A null <paramref name="key"/> (<paramref name="all"/>) means every key (FLUSHALL). False when not delivered.
    /// </summary>
    public bool DeliverInvalidation(ReadOnlySpan<byte> key, bool all, OutputBufferLimit limit, long nowMs)
    {
        TaskCompletionSource? wake;
        bool overLimit;
        lock (_gate)
        {
            if (_closed) return false;
            if (_writer.Version == RespVersion.Resp2)
            {
                if (_channelCount + _patternCount == 0) return false;
                _writer.WritePushHeader(3);
                _writer.WriteBulkString("message"u8);
                _writer.WriteBulkString(InvalidateChannel);
            }
            else
            {
                _writer.WritePushHeader(2);
                _writer.WriteBulkString("invalidate"u8);
            }
            if (all) _writer.WriteNull();
            else
            {
                _writer.WriteArrayHeader(1);
                _writer.WriteBulkString(key);
            }
            overLimit = IsOverLimit(limit, nowMs) || _outbox.Length > MaxOutboxBytes;
            wake = TakeWakeLocked(close: overLimit);
        }
        AfterFrame(wake, overLimit);
        return true;
    }

    /// <summary>
    /// RESP3 only: the <c>tracking-redir-broken</c> push Redis sends a tracking connection whose REDIRECT target has
    /// gone, naming it, so the client knows its invalidations are being lost.
    /// </summary>
    public void DeliverRedirectBroken(long targetId, OutputBufferLimit limit, long nowMs)
    {
        TaskCompletionSource? wake;
        bool overLimit;
        lock (_gate)
        {
            if (_closed || _writer.Version == RespVersion.Resp2) return;
            _writer.WritePushHeader(2);
            _writer.WriteBulkString("tracking-redir-broken"u8);
            _writer.WriteInteger(targetId);
            overLimit = IsOverLimit(limit, nowMs) || _outbox.Length > MaxOutboxBytes;
            wake = TakeWakeLocked(close: overLimit);
        }
        AfterFrame(wake, overLimit);
    }

    /// <summary>Redis's checkClientOutputBufferLimits: over the hard limit at once, over the soft one for longer than its seconds.</summary>
    private bool IsOverLimit(OutputBufferLimit limit, long nowMs)
    {
        long used = _outbox.Length + _sending;
        if (limit.HardBytes > 0 && used > limit.HardBytes) return true;
        if (limit.SoftBytes > 0 && used > limit.SoftBytes)
        {
            if (_overSoftLimitSinceMs < 0) _overSoftLimitSinceMs = nowMs;
            else if (nowMs - _overSoftLimitSinceMs > limit.SoftSeconds * 1000) return true;
        }
        else
        {
            _overSoftLimitSinceMs = -1;
        }
        return false;
    }

    // ------------------------------------------------------------------ session side

    /// <summary>Completes when the outbox holds messages (at once if it already does).</summary>
    public Task WhenPending()
    {
        lock (_gate)
        {
            if (_outbox.Length > 0 || _closed) return Task.CompletedTask;
            // continuations off the publisher's thread: it must not go on to run this session's sends
            return (_wake ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    /// <summary>Appends the waiting messages to <paramref name="output"/> (the session's send buffer); they count as being sent until <see cref="Sent"/>.</summary>
    public void DrainTo(IBufferWriter<byte> output)
    {
        byte[] taken;
        int length;
        lock (_gate)
        {
            length = _outbox.Length;
            if (length == 0) return;
            taken = _outbox.Swap(_spare);
            _spare = null;
            _sending += length;
        }
        // the copy runs outside the lock, so publishers are not held up by a big drain
        output.Write(taken.AsSpan(0, length));
        if (taken.Length <= RetainedOutboxSize)
        {
            lock (_gate) _spare ??= taken;
        }
    }

    /// <summary>The session is sending <paramref name="bytes"/> (its whole send buffer), or 0 once the socket took them.</summary>
    public void Sending(long bytes)
    {
        lock (_gate) _sending = bytes;
    }

    public void Sent() => Sending(0);

    /// <summary>
    /// HELLO switched the connection's protocol: messages already encoded go out first (to <paramref name="output"/>,
    /// unless null), later ones are encoded in the new shapes.
    /// </summary>
    public void SwitchProtocol(RespVersion version, IBufferWriter<byte>? output)
    {
        lock (_gate)
        {
            if (output is not null && _outbox.Length > 0)
            {
                output.Write(_outbox.Written);
                _sending += _outbox.Length;
                _outbox.Clear();
            }
            _writer.Version = version;
        }
    }

    /// <summary>Under the lock, after a frame went into the outbox or at the end: closes if asked (a subscriber past its limit) and takes the session's wake-up.</summary>
    private TaskCompletionSource? TakeWakeLocked(bool close)
    {
        if (close) CloseLocked();
        var wake = _wake;
        _wake = null;
        return wake;
    }

    /// <summary>Outside the lock: wakes the session; shutting the socket down ends it, and it then leaves every channel.</summary>
    private void AfterFrame(TaskCompletionSource? wake, bool overLimit)
    {
        wake?.TrySetResult();
        if (overLimit) _disconnect();
    }

    /// <summary>The connection is gone: no more messages, memory given back.</summary>
    public void Close()
    {
        TaskCompletionSource? wake;
        lock (_gate) wake = TakeWakeLocked(close: true);
        wake?.TrySetResult();
    }

    private void CloseLocked()
    {
        _closed = true;
        _outbox.Release();
        _spare = null;
    }

    /// <summary>The outbox buffer: written only through <see cref="_writer"/>, under the subscriber's lock.</summary>
    private sealed class Outbox : IBufferWriter<byte>
    {
        private byte[] _buffer = [];

        public int Length { get; private set; }

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

        /// <summary>Hands the buffer over and continues in <paramref name="replacement"/> (or a fresh one when first written).</summary>
        public byte[] Swap(byte[]? replacement)
        {
            var taken = _buffer;
            _buffer = replacement ?? [];
            Length = 0;
            return taken;
        }

        public void Clear()
        {
            Length = 0;
            if (_buffer.Length > RetainedOutboxSize) _buffer = [];
        }

        public void Release()
        {
            Length = 0;
            _buffer = [];
        }

        public void Advance(int count) => Length += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            EnsureRoom(sizeHint);
            return _buffer.AsMemory(Length);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            EnsureRoom(sizeHint);
            return _buffer.AsSpan(Length);
        }

        private void EnsureRoom(int sizeHint)
        {
            int needed = Math.Max(sizeHint, 1);
            if (_buffer.Length - Length >= needed) return;
            long size = Math.Max(Math.Max((long)_buffer.Length * 2, (long)Length + needed), InitialOutboxSize);
            var grown = new byte[Math.Min(size, Array.MaxLength)];
            _buffer.AsSpan(0, Length).CopyTo(grown);
            _buffer = grown;
        }
    }
}
