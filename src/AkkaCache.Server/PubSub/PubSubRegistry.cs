using AkkaCache.Protocol;
using System.Collections.Concurrent;
using System.Globalization;
using AkkaCache.Core.Keyspace;

namespace AkkaCache.Server.PubSub;

/// <summary>The pubsub class of client-output-buffer-limit: hard bytes, soft bytes and soft seconds (0 = no such limit).</summary>
internal sealed record OutputBufferLimit(long HardBytes, long SoftBytes, long SoftSeconds)
{
    /// <summary>Redis's default: pubsub 32mb 8mb 60.</summary>
    public static readonly OutputBufferLimit PubSubDefault = new(32 * 1024 * 1024, 8 * 1024 * 1024, 60);

    /// <summary>The limits of <paramref name="clientClass"/> in a normalised setting ("normal 0 0 0 slave ... pubsub h s sec").</summary>
    public static OutputBufferLimit Parse(string setting, string clientClass)
    {
        var parts = setting.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i + 3 < parts.Length; i += 4)
        {
            if (!parts[i].Equals(clientClass, StringComparison.OrdinalIgnoreCase)) continue;
            return new OutputBufferLimit(
                long.Parse(parts[i + 1], CultureInfo.InvariantCulture),
                long.Parse(parts[i + 2], CultureInfo.InvariantCulture),
                long.Parse(parts[i + 3], CultureInfo.InvariantCulture));
        }
        throw new ArgumentException($"No '{clientClass}' class in '{setting}'.", nameof(setting));
    }
}

/// <summary>
/// This node's channels and patterns. PUBLISH reads it without locks (a concurrent dictionary lookup straight from the
/// request bytes, then copy-on-write arrays), so publishers never contend with each other or with subscription changes;
/// only SUBSCRIBE / UNSUBSCRIBE and their pattern forms, which are rare next to messages, serialise on one lock.
/// Lock order: the registry's lock, then a subscriber's.
/// </summary>
internal sealed class PubSubRegistry
{
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<byte[], Subscription> _channels = new(ByteKeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], Subscription>.AlternateLookup<ReadOnlySpan<byte>> _channelsByName;
    private readonly Dictionary<byte[], Subscription> _patternsByName = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], Subscription>.AlternateLookup<ReadOnlySpan<byte>> _patternLookup;
    private Subscription[] _patterns = [];
    private int _channelCount;
    private OutputBufferLimit _limit = OutputBufferLimit.PubSubDefault;

    public PubSubRegistry()
    {
        _channelsByName = _channels.GetAlternateLookup<ReadOnlySpan<byte>>();
        _patternLookup = _patternsByName.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>CONFIG SET client-output-buffer-limit changes it for connected subscribers too.</summary>
    public OutputBufferLimit Limit
    {
        get => Volatile.Read(ref _limit);
        set => Volatile.Write(ref _limit, value);
    }

    /// <summary>Channels with at least one subscriber (INFO pubsub_channels).</summary>
    public int ChannelCount => Volatile.Read(ref _channelCount);

    /// <summary>Distinct patterns subscribed to (PUBSUB NUMPAT, INFO pubsub_patterns).</summary>
    public int PatternCount => Volatile.Read(ref _patterns).Length;

    /// <summary>Delivers a message to this node's subscribers of the channel and of matching patterns; returns how many received it.</summary>
    public int Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, long nowMs)
    {
        int receivers = 0;
        var limit = Limit;
        if (_channelsByName.TryGetValue(channel, out var subscription))
        {
            foreach (var subscriber in subscription.Subscribers)
                if (subscriber.Deliver(subscription, channel, message, limit, nowMs)) receivers++;
        }
        foreach (var pattern in Volatile.Read(ref _patterns))
        {
            if (!Glob.IsMatch(pattern.Name, channel)) continue;
            foreach (var subscriber in pattern.Subscribers)
                if (subscriber.Deliver(pattern, channel, message, limit, nowMs)) receivers++;
        }
        return receivers;
    }

    /// <summary>Subscribes to a channel or a pattern; false when already subscribed.</summary>
    public bool Subscribe(Subscriber subscriber, ReadOnlySpan<byte> name, bool pattern)
    {
        lock (_gate)
        {
            var subscription = Find(name, pattern);
            if (subscription is null)
            {
                subscription = new Subscription(name.ToArray(), pattern);
                subscriber.Add(subscription);
                subscription.Subscribers = [subscriber];
                // published only once it has its subscriber, so no lookup finds an empty channel
                if (pattern)
                {
                    _patternsByName.Add(subscription.Name, subscription);
                    Volatile.Write(ref _patterns, [.. _patterns, subscription]);
                }
                else
                {
                    _channels[subscription.Name] = subscription;
                    Volatile.Write(ref _channelCount, _channelCount + 1);
                }
                return true;
            }
            if (!subscriber.Add(subscription)) return false;
            subscription.Subscribers = [.. subscription.Subscribers, subscriber];
            return true;
        }
    }

    /// <summary>Unsubscribes from a channel or a pattern; false when not subscribed to it.</summary>
    public bool Unsubscribe(Subscriber subscriber, ReadOnlySpan<byte> name, bool pattern)
    {
        lock (_gate)
        {
            var subscription = Find(name, pattern);
            return subscription is not null && RemoveLocked(subscriber, subscription);
        }
    }

    /// <summary>Unsubscribes from every channel (or every pattern); returns their names.</summary>
    public List<byte[]> UnsubscribeAll(Subscriber subscriber, bool patterns)
    {
        lock (_gate)
        {
            var names = new List<byte[]>();
            foreach (var subscription in subscriber.Snapshot(patterns))
                if (RemoveLocked(subscriber, subscription)) names.Add(subscription.Name);
            return names;
        }
    }

    private Subscription? Find(ReadOnlySpan<byte> name, bool pattern) =>
        pattern
            ? _patternLookup.TryGetValue(name, out var found) ? found : null
            : _channelsByName.TryGetValue(name, out var channel) ? channel : null;

    private bool RemoveLocked(Subscriber subscriber, Subscription subscription)
    {
        if (!subscriber.Remove(subscription)) return false;
        var remaining = subscription.Subscribers.Where(s => !ReferenceEquals(s, subscriber)).ToArray();
        subscription.Subscribers = remaining;
        if (remaining.Length > 0) return true;
        if (subscription.IsPattern)
        {
            _patternsByName.Remove(subscription.Name);
            Volatile.Write(ref _patterns, _patterns.Where(p => !ReferenceEquals(p, subscription)).ToArray());
        }
        else
        {
            _channels.TryRemove(subscription.Name, out _);
            Volatile.Write(ref _channelCount, _channelCount - 1);
        }
        return true;
    }

    /// <summary>PUBSUB CHANNELS [pattern]: active channels, filtered by a glob pattern.</summary>
    public List<byte[]> Channels(ReadOnlySpan<byte> pattern, bool all)
    {
        var names = new List<byte[]>();
        // enumerating the dictionary itself takes no locks (Keys would lock every bucket to copy them)
        foreach (var (name, _) in _channels)
            if (all || Glob.IsMatch(pattern, name)) names.Add(name);
        return names;
    }

    /// <summary>PUBSUB NUMSUB: subscribers of one channel on this node (pattern subscribers not counted, as in Redis).</summary>
    public int SubscriberCount(ReadOnlySpan<byte> channel) =>
        _channelsByName.TryGetValue(channel, out var subscription) ? subscription.Subscribers.Length : 0;
}
