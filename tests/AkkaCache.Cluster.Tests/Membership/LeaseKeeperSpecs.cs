using Akka.Actor;
using Akka.Configuration;
using AkkaCache.Cluster.ControlPlane;
using AkkaCache.Cluster.Membership;
using AkkaCache.Cluster.Sharding;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaCache.Cluster.Tests.Membership;

/// <summary>
/// The quorum lease between two real actor systems in this process, over Akka.Remote on loopback: each vouches for
/// the other only while it counts that incarnation as a reachable member.
/// </summary>
public sealed class LeaseKeeperSpecs : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>A node's shipped configuration on a free port, joining no seed by itself.</summary>
    internal static Config NodeConfig(string cluster, string id) =>
        ConfigurationFactory.ParseString("akka.cluster.seed-nodes = []").WithFallback(ClusterAgent.BuildConfig(new ClusterSettings
        {
            ClusterName = cluster, Self = new ClusterMember(id, "127.0.0.1", 7000), ClusterPort = 0,
        }));

    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1);

    public LeaseKeeperSpecs() : base(NodeConfig("lease", "a"))
    {
    }

    private static LeaseGuard StartKeeper(ActorSystem system)
    {
        var guard = new LeaseGuard(TimeProvider.System, Lease, TimeSpan.Zero);
        system.ActorOf(Props.Create(() => new LeaseKeeper(guard, DowningStrategy.KeepMajority, 0, TimeSpan.FromMilliseconds(100), NullLogger.Instance)), LeaseKeeper.Name);
        return guard;
    }

    private void AwaitUp(ActorSystem system, int members) =>
        AwaitCondition(() => Akka.Cluster.Cluster.Get(system).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == members, TimeSpan.FromSeconds(30));

    [Fact]
    public void A_lone_member_vouches_for_itself_once_it_is_up()
    {
        var guard = StartKeeper(Sys);
        Assert.False(guard.IsValid);
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitUp(Sys, 1);
        AwaitCondition(() => guard.IsValid, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Members_vouch_for_each_other_and_refuse_an_incarnation_they_do_not_know()
    {
        var guardA = StartKeeper(Sys);
        var clusterA = Akka.Cluster.Cluster.Get(Sys);
        clusterA.Join(clusterA.SelfAddress);
        // the same system name as the test kit's: a cluster admits members of its own name only
        using var other = ActorSystem.Create(Sys.Name, NodeConfig("lease", "b"));
        try
        {
            var guardB = StartKeeper(other);
            var clusterB = Akka.Cluster.Cluster.Get(other);
            clusterB.Join(clusterA.SelfAddress);
            AwaitUp(Sys, 2);
            AwaitUp(other, 2);
            // two members: each needs the other's vote (or, on an even split, the lowest address)
            AwaitCondition(() => guardA.IsValid && guardB.IsValid, TimeSpan.FromSeconds(10));

            // asked from b's side, a answers b's real incarnation yes and any other no
            var probe = CreateTestProbe(other);
            var keeperA = other.ActorSelection(new RootActorPath(clusterA.SelfAddress) / "user" / LeaseKeeper.Name);
            keeperA.Tell(new LeasePing(7, clusterB.SelfUniqueAddress.Uid), probe.Ref);
            Assert.True(probe.ExpectMsg<LeaseAnswer>(TimeSpan.FromSeconds(10)) is { Sequence: 7, Granted: true });
            keeperA.Tell(new LeasePing(8, clusterB.SelfUniqueAddress.Uid + 1), probe.Ref);
            Assert.True(probe.ExpectMsg<LeaseAnswer>(TimeSpan.FromSeconds(10)) is { Sequence: 8, Granted: false });
        }
        finally
        {
            await other.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
