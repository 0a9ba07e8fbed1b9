using System.Buffers;
using AkkaCache.Cluster.Bus;
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
internal sealed class PubSubForwarder : IAsyncDisposable
{
    private readonly Func<ClusterTopology?> _currentTopology;
    private readonly PeerLinks<ForwardLink> _links;
    private long _droppedByRemovedLinks;

    public PubSubForwarder(string selfId, string? password, Func<ClusterTopology?> currentTopology, ILogger? logger = null)
    {
        _currentTopology = currentTopology;
        var log = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _links = new PeerLinks<ForwardLink>(selfId, member => new ForwardLink(member.Id, member.Host, member.Port, password, log),
            removed => Interlocked.Add(ref _droppedByRemovedLinks, removed.Dropped));
    }

    /// <summary>Messages not forwarded to some peer (unreachable, or its queue full); INFO reports it.</summary>
    public long Dropped
    {
        get
        {
            long dropped = Volatile.Read(ref _droppedByRemovedLinks);
            foreach (var peer in _links.Current) dropped += peer.Dropped;
            return dropped;
        }
    }

    /// <summary>Follows the current map (called when it changes, so links connect before the first message).</summary>
    public void Refresh() => _links.Apply(_currentTopology());

    /// <summary>Queues the message for every peer; returns at once.</summary>
    public void Forward(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        // the map-change event runs after the new map is visible: a client that already saw a member (CLUSTER NODES)
        // must not publish past it, so the map is checked here too (one reference comparison while it is unchanged)
        Refresh();
        foreach (var peer in _links.Current) peer.Enqueue(channel, message);
    }

    public ValueTask DisposeAsync() => _links.DisposeAsync();

    /// <summary>One peer: publishers encode into the link's pending buffer under its lock, and never wait for it.</summary>
    private sealed class ForwardLink : PeerLink
    {
        /// <summary>How much may wait for a slow or reconnecting peer before messages are dropped.</summary>
        private const int MaxPendingBytes = 16 * 1024 * 1024;

        private static readonly byte[] HelloCommand = RespRequestEncoder.Encode("AC.PUBSUBHELLO");
        private static readonly byte[] CommandHeader = "*3\r\n$15\r\nAC.PUBLISHLOCAL\r\n"u8.ToArray();

        private int _pendingMessages;
        private long _dropped;

        // the map-change event opens links before anyone can publish to the new member: messages wait for the connection
        public ForwardLink(string id, string host, int port, string? password, ILogger logger)
            : base(id, host, port, password, queueUntilConnected: true, logger) => Start();

        public long Dropped => Interlocked.Read(ref _dropped);

        protected override string Name => "pub/sub link";
        protected override string WhileDown => "dropping messages to it meanwhile";
        protected override byte[] Hello => HelloCommand;

        public void Enqueue(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
        {
            int size = CommandHeader.Length + RespRequestEncoder.BulkLength(channel.Length) + RespRequestEncoder.BulkLength(message.Length);
            lock (Gate)
            {
                if (IsDown || Pending.WrittenCount + size > MaxPendingBytes)
                {
                    Interlocked.Increment(ref _dropped);
                    return;
                }
                Pending.Write(CommandHeader);
                RespRequestEncoder.WriteBulk(Pending, channel);
                RespRequestEncoder.WriteBulk(Pending, message);
                _pendingMessages++;
                Wake();
            }
        }

        protected override void OnSending() => _pendingMessages = 0;

        /// <summary>What was queued for the peer is stale by the time it is back: dropped, like whatever is published until then.</summary>
        protected override void OnDisconnected()
        {
            Interlocked.Add(ref _dropped, _pendingMessages);
            _pendingMessages = 0;
        }

        /// <summary>The peer's replies are counts, discarded; an error means AUTH or the hello failed, and the link is cut.</summary>
        protected override void OnReply(ReadOnlySpan<byte> reply)
        {
            if (reply[0] == (byte)'-')
                throw new InvalidOperationException("the peer refused forwarded pub/sub messages: " + System.Text.Encoding.UTF8.GetString(reply).TrimEnd());
        }
    }
}
