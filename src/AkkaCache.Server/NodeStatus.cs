namespace AkkaCache.Server;

/// <summary>A snapshot of a running node (<see cref="NodeServer.GetStatus"/>).</summary>
/// <param name="EndPoint">The host:port the node is known by (<see cref="NodeServer.AnnouncedEndPoint"/>).</param>
/// <param name="Port">The port listened on.</param>
/// <param name="IsClustered">Whether the node is a cluster member (else standalone).</param>
/// <param name="IsStopped">The node has been stopped (disposed).</param>
/// <param name="CanServe">Keyed requests are answered: standalone, while running; in a cluster, with a shard map and a lease the node can vouch for.</param>
/// <param name="Keys">Keys held, replicas included.</param>
/// <param name="Clients">Connected clients, in-process ones and cluster links included.</param>
public sealed record NodeStatus(string EndPoint, int Port, bool IsClustered, bool IsStopped, bool CanServe, long Keys, int Clients)
{
    public string? ClusterName { get; init; }
    public string? NodeId { get; init; }

    /// <summary>The node follows a shard map (false until the first one is loaded, and between incarnations).</summary>
    public bool HasTopology { get; init; }

    /// <summary>The quorum lease (a majority side of the cluster vouched for this node) is recent enough for the node to act on its membership (fencing).</summary>
    public bool LeaseValid { get; init; }

    public TimeSpan LeaseRemaining { get; init; }

    /// <summary>The epoch of the shard map followed; 0 without one.</summary>
    public long Epoch { get; init; }

    /// <summary>Every slot has a primary in the map (CLUSTER INFO's cluster_state:ok, given <see cref="CanServe"/>).</summary>
    public bool AllSlotsAssigned { get; init; }

    /// <summary>Shards this node is primary of.</summary>
    public int ShardsLed { get; init; }

    /// <summary>Shards this node holds a replica of.</summary>
    public int ShardsReplicated { get; init; }

    public bool IsLeader { get; init; }

    /// <summary>The node is an Up member of the Akka cluster (false while it joins, and once it leaves).</summary>
    public bool IsMember { get; init; }

    /// <summary>A graceful leave is under way (or done).</summary>
    public bool IsLeaving { get; init; }
}
