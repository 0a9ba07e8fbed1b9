using AkkaCache.Client.Internal;
using AkkaCache.Protocol;

namespace AkkaCache.Client;

/// <summary>An active subscription; dispose it to unsubscribe.</summary>
public abstract class AkkaCacheSubscription : IAsyncDisposable
{
    /// <summary>The channel, or the glob pattern for a pattern subscription.</summary>
    public abstract string Channel { get; }
    public abstract bool IsPattern { get; }
    public abstract ValueTask DisposeAsync();
}

public sealed partial class AkkaCacheClient
{
    /// <summary>
    /// Publishes a message on a channel; returns how many subscribers received it. It goes to the node owning the
    /// channel name's slot, where this client's subscriptions to the channel live. Never retried: it may have been delivered.
    /// </summary>
    public async ValueTask<long> PublishAsync(string channel, CacheValue message, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var operation = Operation.Rent("PUBLISH", OperationKind.Write, 3);
        operation.AddKey(channel); // routes by the channel's slot; the node does not treat it as a key
        operation.Add(message);
        return Expect(await _core.ExecuteAsync(operation, _timeout, cancellation).ConfigureAwait(false), "PUBLISH", RespType.Integer).Integer;
    }

    /// <summary>
    /// Subscribes to a channel; <paramref name="handler"/> gets (channel, message) for every message published after
    /// this returns, on the connection's reader (keep it short). Dispose the subscription to unsubscribe.
    /// </summary>
    public Task<AkkaCacheSubscription> SubscribeAsync(string channel, Action<string, byte[]> handler, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(handler);
        return Subscriptions.SubscribeAsync(channel, pattern: false, handler, cancellation);
    }

    /// <summary>Subscribes to every channel matching a glob pattern (PSUBSCRIBE), on every primary.</summary>
    public Task<AkkaCacheSubscription> SubscribePatternAsync(string pattern, Action<string, byte[]> handler, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(handler);
        return Subscriptions.SubscribeAsync(pattern, pattern: true, handler, cancellation);
    }

    private Subscriber Subscriptions
    {
        get
        {
            if (!_ownsCore) throw new InvalidOperationException("Subscribe through the client itself, not a WithTimeout view.");
            lock (_subscriberGate) return _subscriber ??= new Subscriber(_core, _core.Logger);
        }
    }
}
