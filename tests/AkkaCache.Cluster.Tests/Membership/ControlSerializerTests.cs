using System.Runtime.Serialization;
using Akka.Actor;
using AkkaCache.Cluster.ControlPlane;
using AkkaCache.Cluster.Membership;
using AkkaCache.Cluster.Sharding;

namespace AkkaCache.Cluster.Tests.Membership;

/// <summary>Every control message and the shard map go through AkkaCache's binary serializer, never Akka's JSON.</summary>
public sealed class ControlSerializerTests : Akka.TestKit.Xunit2.TestKit
{
    public ControlSerializerTests() : base(LeaseKeeperSpecs.NodeConfig("serializer", "n1"))
    {
    }

    public static TheoryData<object> Messages() =>
    [
        new LeasePing(42, -17),
        new LeaseAnswer(42, true),
        new HandoffReady(1023, "node-2"),
        new LeaveRequest("node-3"),
        new PinRequest(5, "node-1"),
        new PinRequest(5, null),
        new PinReply(null),
        new PinReply("node 'x' is leaving the cluster"),
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Each_message_round_trips_through_the_binary_serializer(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<ControlSerializer>(serializer);
        var manifest = ((ControlSerializer)serializer).Manifest(message);
        var back = ((ControlSerializer)serializer).FromBinary(serializer.ToBinary(message), manifest);
        Assert.Equal(message, back);
    }

    [Fact]
    public void A_shard_map_round_trips_and_takes_a_few_bytes_per_shard()
    {
        var members = Enumerable.Range(0, 5).Select(i => new ClusterMember($"node-{i}", "10.0.0." + i, 7000 + i, i % 2 == 0 ? "zone-a" : null) { Incarnation = 1000 + i }).ToArray();
        var shards = Enumerable.Range(0, 1024).Select(s => new ShardAssignment
        {
            Primary = members[s % 5].Id,
            Replicas = [members[(s + 1) % 5].Id, members[(s + 2) % 5].Id],
            MigratingTo = s % 100 == 0 ? members[(s + 3) % 5].Id : null,
        }).ToArray();
        shards[7] = new ShardAssignment();
        var map = new ShardMap { Epoch = 99, ReplicaCount = 2, Members = members, Shards = shards };
        var serializer = (ControlSerializer)Sys.Serialization.FindSerializerFor(map);
        var bytes = serializer.ToBinary(map);
        var back = (ShardMap)serializer.FromBinary(bytes, serializer.Manifest(map));
        Assert.Equal(map.Epoch, back.Epoch);
        Assert.Equal(map.ReplicaCount, back.ReplicaCount);
        Assert.Equal(map.Members, back.Members);
        Assert.Equal(map.Members.Select(m => m.Incarnation), back.Members.Select(m => m.Incarnation));
        for (int s = 0; s < shards.Length; s++)
        {
            Assert.Equal(shards[s].Primary, back.Shards[s].Primary);
            Assert.Equal(shards[s].MigratingTo, back.Shards[s].MigratingTo);
            Assert.Equal(shards[s].Replicas, back.Shards[s].Replicas);
        }
        Assert.True(bytes.Length < 6 * 1024, $"{bytes.Length} bytes");
    }

    [Fact]
    public void A_message_of_a_newer_format_version_is_refused_with_a_message_that_says_so()
    {
        var serializer = (ControlSerializer)Sys.Serialization.FindSerializerFor(new LeaveRequest("n"));
        var bytes = serializer.ToBinary(new LeaveRequest("n"));
        bytes[0] = 2;
        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "L"));
        Assert.Equal("AkkaCache control message 'L' has format version 2; this node reads up to version 1. Upgrade this node.", error.Message);
    }

    [Fact]
    public void Truncated_and_unknown_messages_are_refused()
    {
        var serializer = (ControlSerializer)Sys.Serialization.FindSerializerFor(new LeaveRequest("n"));
        var bytes = serializer.ToBinary(new HandoffReady(3, "target"));
        Assert.Contains("truncated", Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..4], "H")).Message);
        Assert.Contains("Unknown AkkaCache control message 'ZZ'", Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "ZZ")).Message);
    }
}
