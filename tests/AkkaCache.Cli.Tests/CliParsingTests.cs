using AkkaCache.Cli.Commands;

namespace AkkaCache.Cli.Tests;

/// <summary>The tool's pure pieces: member status, addresses, INFO figures.</summary>
public sealed class CliParsingTests
{
    private static MemberReply Member(bool registered = true, bool inMap = true, bool leaving = false) =>
        new() { Id = "n1", Host = "127.0.0.1", Port = 7000, Registered = registered, InMap = inMap, Leaving = leaving };

    private static InfoFields Info(string text) => new(text.Replace("\n", "\r\n", StringComparison.Ordinal));

    [Fact]
    public void Status_comes_from_the_lease_the_map_the_leave_flag_and_the_node_itself()
    {
        var serving = Info("# Cluster\ncluster_lease_valid:1\n");
        Assert.Equal("up", ClusterCommands.Status(Member(), serving));
        Assert.Equal("joining", ClusterCommands.Status(Member(inMap: false), serving));
        Assert.Equal("leaving", ClusterCommands.Status(Member(leaving: true), serving));
        Assert.Equal("suspect", ClusterCommands.Status(Member(), null));
        Assert.Equal("fenced", ClusterCommands.Status(Member(), Info("cluster_lease_valid:0\n")));
        Assert.Equal("down", ClusterCommands.Status(Member(registered: false), null));
        Assert.Equal("unreachable", ClusterCommands.Status(Member() with { Status = "Unreachable" }, serving));
    }

    [Theory]
    [InlineData("127.0.0.1:7000", "127.0.0.1", 7000)]
    [InlineData("cache-1", "cache-1", 6379)]
    [InlineData("[::1]:7001", "::1", 7001)]
    [InlineData("[::1]", "::1", 6379)]
    public void Endpoints_parse_with_the_redis_port_as_default(string text, string host, int port) =>
        Assert.Equal((host, port), NodeClient.ParseEndpoint(text));

    [Theory]
    [InlineData("")]
    [InlineData("host:")]
    [InlineData(":7000")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    public void A_malformed_endpoint_is_a_usage_error_with_an_example(string text)
    {
        var error = Assert.Throws<CliException>(() => NodeClient.ParseEndpoint(text));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains("e.g. --host 127.0.0.1:7000", error.Message);
    }

    [Fact]
    public void Stats_are_rates_over_the_interval_with_the_sampling_info_not_counted()
    {
        var before = Info("total_commands_processed:100\nkeyspace_hits:10\nkeyspace_misses:10\nevicted_keys:0\nexpired_keys:5\ndb0:keys=7,expires=0,avg_ttl=0\n");
        var after = Info("total_commands_processed:301\nkeyspace_hits:85\nkeyspace_misses:35\nevicted_keys:40\nexpired_keys:5\ndb0:keys=9,expires=0,avg_ttl=0\n"
            + "latency_percentiles_usec_get:p50=12.5,p99=80.1,p99.9=100\nlatency_percentiles_usec_set:p50=20,p99=90\n");
        var stats = StatsCommand.Compute("n1", before, after, 2);
        Assert.Equal(100, stats.OpsPerSecond);
        Assert.Equal(75, stats.HitRate);
        Assert.Equal(20, stats.EvictionsPerSecond);
        Assert.Equal(0, stats.ExpirationsPerSecond);
        Assert.Equal(9, stats.Keys);
        Assert.Equal("get", stats.LatencyCommand);
        Assert.Equal(12.5, stats.P50Micros);
        Assert.Equal(80.1, stats.P99Micros);
        Assert.Equal(2, stats.Latencies.Count);
    }

    [Fact]
    public void Stats_of_a_node_that_missed_a_sample_are_unknown_not_zero()
    {
        var stats = StatsCommand.Compute("n1", null, Info("total_commands_processed:5\n"), 1);
        Assert.Equal("no answer", stats.Status);
        Assert.Null(stats.OpsPerSecond);
        Assert.Null(stats.LatencyCommand);
    }
}
