using Akka.Actor;
using Akka.DistributedData;
using AkkaCache.Cluster.Sharding;

namespace AkkaCache.Cluster.Membership;

/// <summary>
/// Where the shard map lives: one last-writer-wins register in distributed data whose clock is the map's epoch, so
/// every node converges on the highest epoch whatever order the gossip brings. Only the coordinator writes it
/// (majority writes, so its successor's majority read finds the last map); every node subscribes to it.
/// </summary>
internal static class MapStore
{
    public static readonly LWWRegisterKey<ShardMap> MapKey = new("akkacache-map");
    public static readonly LWWRegisterKey<ShardPins> PinsKey = new("akkacache-pins");

    public static readonly Clock<ShardMap> EpochClock = (_, map) => map.Epoch;
}

/// <summary>Follows the map on one node: every version distributed data brings is handed to the agent.</summary>
internal sealed class MapFollower : ReceiveActor
{
    public const string Name = "akkacache-map";

    public MapFollower(Action<ShardMap> apply)
    {
        var replicator = DistributedData.Get(Context.System).Replicator;
        Receive<Changed>(changed => apply(changed.Get(MapStore.MapKey).Value));
        Receive<GetSuccess>(got => apply(got.Get(MapStore.MapKey).Value));
        Receive<NotFound>(_ => { });
        Receive<GetFailure>(_ => { });
        replicator.Tell(Dsl.Subscribe(MapStore.MapKey, Self));
        replicator.Tell(Dsl.Get(MapStore.MapKey, ReadLocal.Instance));
    }
}
