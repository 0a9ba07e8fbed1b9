using AkkaCache.Server.Configuration;

namespace AkkaCache.Server.Tests;

/// <summary>Cluster switches as the executable reads them: a bad value is refused with a message naming the setting.</summary>
public sealed class ClusterOptionsTests
{
    [Fact]
    public void Cluster_switches_map_to_their_settings()
    {
        var options = NodeServer.LoadOptions([
            "--cluster-enabled", "yes", "--cluster-port", "17000", "--seed-nodes", "10.0.0.1:17000, 10.0.0.2:17000", "--cluster-name", "prod",
            "--node-id", "cache-1", "--split-brain-resolver", "static-quorum", "--static-quorum-size", "2",
            "--announce", "10.0.0.5:7000", "--zone", "eu-1a", "--replicas", "2",
            "--cluster-max-shards-in-flight", "8", "--cluster-snapshot-rate", "32mb", "--cluster-proxy", "yes",
            "--cluster-advertise-replicas", "yes"]);
        Assert.True(options.IsClusterEnabled);
        Assert.True(options.IsClusterProxy);
        Assert.True(options.IsClusterAdvertiseReplicas);
        Assert.Equal(17000, options.ClusterPort);
        Assert.Equal(["10.0.0.1:17000", "10.0.0.2:17000"], options.SeedNodeList);
        Assert.Equal(AkkaCache.Cluster.Membership.DowningStrategy.StaticQuorum, options.DowningStrategy);
        Assert.Equal(2, options.StaticQuorumSize);
        Assert.Equal("prod", options.ClusterName);
        Assert.Equal("cache-1", options.NodeId);
        Assert.Equal(("10.0.0.5", 7000), NodeOptions.ParseAnnounce(options.Announce!));
        Assert.Equal("eu-1a", options.Zone);
        Assert.Equal(2, options.Replicas);
        Assert.Equal(8, options.ClusterMaxShardsInFlight);
        Assert.Equal(32L * 1024 * 1024, options.ClusterSnapshotRateBytes);
    }

    [Fact]
    public void Standalone_is_the_default() => Assert.False(NodeServer.LoadOptions([]).IsClusterEnabled);

    [Fact]
    public void By_default_a_cluster_advertises_only_the_replicas_every_client_understands() =>
        Assert.False(NodeServer.LoadOptions(["--cluster-enabled", "yes"]).IsClusterAdvertiseReplicas);

    [Theory]
    [InlineData(new[] { "--cluster-enabled", "maybe" }, "Invalid AkkaCache:ClusterEnabled 'maybe': expected yes or no.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--seed-nodes", "host" }, "Invalid AkkaCache:SeedNodes 'host': expected host:cluster-port[,host:cluster-port...].")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--cluster-port", "70000" }, "Invalid AkkaCache:ClusterPort 70000: expected 0 (client port + 10000) or 1..65535.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--split-brain-resolver", "keep-all" }, "Invalid AkkaCache:SplitBrainResolver 'keep-all': expected keep-majority, static-quorum, keep-oldest or down-all.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--split-brain-resolver", "static-quorum" }, "Invalid AkkaCache:StaticQuorumSize 0: static-quorum needs a quorum size of 1 or more.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--akka-config", "/nonexistent.conf" }, "Invalid AkkaCache:AkkaConfig '/nonexistent.conf': no such file.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--announce", "nohost" }, "Invalid AkkaCache:Announce 'nohost': expected host:port.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--announce", "h:70000" }, "Invalid AkkaCache:Announce 'h:70000': expected host:port.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--node-id", "a b" }, "Invalid AkkaCache:NodeId 'a b': expected a name without spaces or '/'.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--cluster-name", "a/b" }, "Invalid AkkaCache:ClusterName 'a/b': expected letters, digits, '-' and '_', starting with a letter or digit (it names the Akka actor system).")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--replicas", "9" }, "Invalid AkkaCache:Replicas 9: expected 0..5.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--cluster-max-shards-in-flight", "0" }, "Invalid AkkaCache:ClusterMaxShardsInFlight 0.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--cluster-snapshot-rate", "fast" }, "Invalid AkkaCache:ClusterSnapshotRate 'fast': expected bytes or a size like 512mb.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--cluster-proxy", "sometimes" }, "Invalid AkkaCache:ClusterProxy 'sometimes': expected yes or no.")]
    [InlineData(new[] { "--cluster-enabled", "yes", "--cluster-advertise-replicas", "all" }, "Invalid AkkaCache:ClusterAdvertiseReplicas 'all': expected yes or no.")]
    public void Bad_cluster_settings_are_refused_with_the_setting_named(string[] args, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => NodeServer.LoadOptions(args));
        Assert.Equal(message, error.Message);
    }
}
