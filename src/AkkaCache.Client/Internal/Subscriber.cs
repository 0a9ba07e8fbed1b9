using System.Text;
using AkkaCache.Client.Transport;
using AkkaCache.Protocol;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Client.Internal;

/// <summary>
/// The client's subscriptions. A channel is subscribed on the node owning the channel name's slot, where
/// <see cref="AkkaCacheClient.PublishAsync"/> sends its messages, so publisher and subscriber meet on one node whatever
/// the node's pub/sub reach; patterns are subscribed on every primary. Subscribed connections are dedicated (RESP2
/// subscribed mode). A lost connection, or a channel whose slot moved, is subscribed again by the maintenance pass,
/// which runs every second and after every failure.
/// </summary>
internal sealed class Subscriber : IAsyncDisposable
{
    private readonly ClientCore _core;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly Dictionary<string, List<Subscription>> _channels = new();
    private readonly Dictionary<string, List<Subscription>> _patterns = new();
    private readonly Dictionary<string, SubscribedConnection> _connections = new();
    private readonly SemaphoreSlim _maintaining = new(1, 1);
    private readonly Timer _timer;
    private bool _disposed;

    public Subscriber(ClientCore core, ILogger logger)
    {
        _core = core;
        _logger = logger;
        _timer = new Timer(static state => _ = ((Subscriber)state!).MaintainQuietlyAsync(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public async Task<AkkaCacheSubscription> SubscribeAsync(string channel, bool pattern, Action<string, byte[]> handler, CancellationToken cancellation)
    {
        var subscription = new Subscription(this, channel, pattern, handler);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var table = pattern ? _patterns : _channels;
            if (!table.TryGetValue(channel, out var list)) table[channel] = list = [];
            list.Add(subscription);
        }
        try
        {
            await MaintainAsync(cancellation).ConfigureAwait(false);
            // the first subscriber of a channel waits for the node's confirmation: messages published after this returns arrive
            if (!IsConfirmed(channel, pattern)) throw new AkkaCacheConnectionException(_core.Options.EndPoints, $"Subscribing to '{channel}' was not confirmed.");
        }
        catch
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return subscription;
    }

    private bool IsConfirmed(string channel, bool pattern)
    {
        lock (_gate)
        {
            foreach (var connection in _connections.Values)
                if (connection.IsConfirmed(channel, pattern)) return true;
            return false;
        }
    }

    internal async ValueTask RemoveAsync(Subscription subscription)
    {
        bool last;
        lock (_gate)
        {
            var table = subscription.IsPattern ? _patterns : _channels;
            if (!table.TryGetValue(subscription.Channel, out var list) || !list.Remove(subscription)) return;
            last = list.Count == 0;
            if (last) table.Remove(subscription.Channel);
        }
        if (last) await MaintainQuietlyAsync().ConfigureAwait(false);
    }

    private async Task MaintainQuietlyAsync()
    {
        try
        {
            await MaintainAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not ObjectDisposedException)
        {
            _logger.LogWarning("Subscriptions could not be placed yet: {Error}", error.Message);
        }
    }

    /// <summary>Brings every node's subscriptions in line with what is wanted and where the slot map places it.</summary>
    private async Task MaintainAsync(CancellationToken cancellation)
    {
        await _maintaining.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            var map = _core.Map;
            if (map is null)
            {
                await _core.RequestRefresh().ConfigureAwait(false);
                map = _core.Map ?? throw new AkkaCacheConnectionException(_core.Options.EndPoints, "No slot map: no node answered.");
            }
            var wanted = new Dictionary<string, (HashSet<string> Channels, HashSet<string> Patterns)>();
            (HashSet<string> Channels, HashSet<string> Patterns) At(string endPoint)
            {
                if (!wanted.TryGetValue(endPoint, out var sets)) wanted[endPoint] = sets = ([], []);
                return sets;
            }
            lock (_gate)
            {
                foreach (var channel in _channels.Keys)
                {
                    var owner = map[HashSlot.Of(Encoding.UTF8.GetBytes(channel))];
                    if (owner is not null) At(owner.Primary.EndPoint).Channels.Add(channel);
                }
                if (_patterns.Count > 0)
                    foreach (var primary in map.Primaries())
                        foreach (var pattern in _patterns.Keys) At(primary.EndPoint).Patterns.Add(pattern);
                foreach (var endPoint in _connections.Keys) At(endPoint);
            }
            foreach (var (endPoint, sets) in wanted)
            {
                SubscribedConnection? connection;
                lock (_gate) _connections.TryGetValue(endPoint, out connection);
                if (connection is { IsBroken: true })
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    lock (_gate) _connections.Remove(endPoint);
                    connection = null;
                }
                if (sets.Channels.Count == 0 && sets.Patterns.Count == 0)
                {
                    if (connection is not null)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                        lock (_gate) _connections.Remove(endPoint);
                    }
                    continue;
                }
                if (connection is null)
                {
                    connection = await SubscribedConnection.OpenAsync(_core, endPoint, Deliver, cancellation).ConfigureAwait(false);
                    lock (_gate) _connections[endPoint] = connection;
                }
                await connection.ApplyAsync(sets.Channels, sets.Patterns, cancellation).ConfigureAwait(false);
            }
        }
        finally
        {
            _maintaining.Release();
        }
    }

    private void Deliver(string? pattern, string channel, byte[] message)
    {
        Subscription[] targets;
        lock (_gate)
        {
            var table = pattern is null ? _channels : _patterns;
            if (!table.TryGetValue(pattern ?? channel, out var list)) return;
            targets = list.ToArray();
        }
        foreach (var target in targets)
        {
            try
            {
                target.Handler(channel, message);
            }
            catch (Exception error)
            {
                _logger.LogError(error, "A handler of channel {Channel} threw", channel);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<SubscribedConnection> connections;
        lock (_gate)
        {
            _disposed = true;
            connections = _connections.Values.ToList();
            _connections.Clear();
        }
        await _timer.DisposeAsync().ConfigureAwait(false);
        foreach (var connection in connections) await connection.DisposeAsync().ConfigureAwait(false);
    }

    internal sealed class Subscription(Subscriber owner, string channel, bool pattern, Action<string, byte[]> handler) : AkkaCacheSubscription
    {
        public override string Channel { get; } = channel;
        public override bool IsPattern { get; } = pattern;
        public Action<string, byte[]> Handler { get; } = handler;
        public override ValueTask DisposeAsync() => owner.RemoveAsync(this);
    }
}

/// <summary>One connection in subscribed mode, with what the node confirmed it is subscribed to.</summary>
internal sealed class SubscribedConnection : IAsyncDisposable
{
    private readonly INodeTransport _transport;
    private readonly Action<string?, string, byte[]> _deliver;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly object _gate = new();
    private readonly HashSet<string> _channels = new();
    private readonly HashSet<string> _patterns = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _broken;

    private SubscribedConnection(INodeTransport transport, Action<string?, string, byte[]> deliver)
    {
        _transport = transport;
        _deliver = deliver;
    }

    public bool IsBroken => _broken;

    public static async Task<SubscribedConnection> OpenAsync(ClientCore core, string endPoint, Action<string?, string, byte[]> deliver, CancellationToken cancellation)
    {
        var options = core.Options;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(options.ConnectTimeout);
        INodeTransport transport;
        try
        {
            transport = options.InProcessNode is { } local && local.EndPoint == endPoint
                ? await local.ConnectAsync(timeout.Token).ConfigureAwait(false)
                : await SocketTransport.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            throw new AkkaCacheConnectionException(endPoint, $"Cannot connect to {endPoint} to subscribe: {error.Message}", error);
        }
        var connection = new SubscribedConnection(transport, deliver);
        if (!string.IsNullOrEmpty(options.Password))
            await connection.SendAsync(options.User is { Length: > 0 } user ? ["AUTH", user, options.Password] : ["AUTH", options.Password], cancellation).ConfigureAwait(false);
        _ = connection.ReadLoopAsync();
        return connection;
    }

    public bool IsConfirmed(string channel, bool pattern)
    {
        lock (_gate) return (pattern ? _patterns : _channels).Contains(channel);
    }

    /// <summary>Subscribes and unsubscribes until the node confirms exactly these channels and patterns.</summary>
    public async Task ApplyAsync(HashSet<string> channels, HashSet<string> patterns, CancellationToken cancellation)
    {
        while (true)
        {
            List<string> subscribe, unsubscribe, psubscribe, punsubscribe;
            Task changed;
            lock (_gate)
            {
                subscribe = channels.Where(c => !_channels.Contains(c)).ToList();
                unsubscribe = _channels.Where(c => !channels.Contains(c)).ToList();
                psubscribe = patterns.Where(p => !_patterns.Contains(p)).ToList();
                punsubscribe = _patterns.Where(p => !patterns.Contains(p)).ToList();
                changed = _changed.Task;
            }
            if (subscribe.Count + unsubscribe.Count + psubscribe.Count + punsubscribe.Count == 0) return;
            if (_broken) throw new AkkaCacheConnectionException("", "The subscribed connection was lost.");
            if (subscribe.Count > 0) await SendAsync(["SUBSCRIBE", .. subscribe], cancellation).ConfigureAwait(false);
            if (unsubscribe.Count > 0) await SendAsync(["UNSUBSCRIBE", .. unsubscribe], cancellation).ConfigureAwait(false);
            if (psubscribe.Count > 0) await SendAsync(["PSUBSCRIBE", .. psubscribe], cancellation).ConfigureAwait(false);
            if (punsubscribe.Count > 0) await SendAsync(["PUNSUBSCRIBE", .. punsubscribe], cancellation).ConfigureAwait(false);
            await changed.WaitAsync(TimeSpan.FromSeconds(10), cancellation).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(string[] command, CancellationToken cancellation)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        RespRequestEncoder.Encode(buffer, command.Select(c => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(c)).ToList());
        await _sending.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await _transport.SendAsync(buffer.WrittenMemory, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new RespReceiveBuffer();
        try
        {
            while (true)
            {
                int read = await _transport.ReceiveAsync(buffer.FreeSpace(), CancellationToken.None).ConfigureAwait(false);
                if (read == 0) break;
                buffer.Received(read);
                while (true)
                {
                    var status = RespReplyParser.TryParse(buffer.Unread, out var value, out int consumed, out _);
                    if (status == RespParseStatus.Error) return;
                    if (status == RespParseStatus.Incomplete) break;
                    buffer.Consume(consumed);
                    OnFrame(value!);
                }
            }
        }
        catch (Exception)
        {
            // the maintenance pass notices the broken connection and subscribes again elsewhere or anew
        }
        finally
        {
            _broken = true;
            Signal();
        }
    }

    private void OnFrame(RespValue frame)
    {
        if (frame.Items is not { Count: >= 3 } items) return;
        var kind = items[0].AsString();
        switch (kind)
        {
            case "message":
                _deliver(null, items[1].AsString() ?? "", items[2].Bytes ?? []);
                return;
            case "pmessage" when items.Count >= 4:
                _deliver(items[1].AsString(), items[2].AsString() ?? "", items[3].Bytes ?? []);
                return;
            case "subscribe" or "unsubscribe" or "psubscribe" or "punsubscribe":
                var name = items[1].AsString();
                lock (_gate)
                {
                    var set = kind[0] == 'p' ? _patterns : _channels;
                    if (name is not null)
                    {
                        if (kind.EndsWith("unsubscribe", StringComparison.Ordinal)) set.Remove(name);
                        else set.Add(name);
                    }
                }
                Signal();
                return;
        }
    }

    private void Signal()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        _broken = true;
        _transport.Abort();
        await _transport.DisposeAsync().ConfigureAwait(false);
    }
}
