using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AkkaCache.Cli.Tests.Infrastructure;

namespace AkkaCache.Cli.Tests;

/// <summary><c>cluster leave</c> and <c>cluster down</c>, each on its own real 3-node cluster, checked with the keys written before.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class CliMembershipTests
{
    private const int KeyCount = 500;

    [Fact]
    public async Task Cluster_leave_drains_the_node_with_progress_until_it_has_left_and_every_key_is_still_readable()
    {
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "64");
        var leaving = cluster.Nodes[2];
        string host = CliRunner.Host(cluster.Nodes[0]);
        await using var cache = await AkkaCacheClient.ConnectAsync(string.Join(",", cluster.Nodes.Take(2).Select(CliRunner.Host)));
        for (int i = 0; i < KeyCount; i++) await cache.SetAsync(Key(i), Value(i));

        var run = await CliRunner.RunAsync("--host", host, "cluster", "leave", leaving.Id);
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Matches($@"{leaving.Id}: shards moved \d+/\d+", run.Output);
        Assert.Contains($"{leaving.Id} left the cluster", run.Output);
        await leaving.WaitForExitAsync(TimeSpan.FromSeconds(30));

        var show = await CliRunner.RunAsync("--host", host, "cluster", "show", "--json");
        Assert.True(show.ExitCode == ExitCodes.Ok, show.ToString());
        var nodes = show.Json().GetProperty("nodes").EnumerateArray().ToList();
        Assert.DoesNotContain(nodes, n => n.GetProperty("id").GetString() == leaving.Id);
        Assert.Equal(64, nodes.Sum(n => n.GetProperty("primaryShards").GetInt32()));

        await cache.RefreshTopologyAsync();
        for (int i = 0; i < KeyCount; i++) Assert.Equal(Value(i), await cache.GetStringAsync(Key(i)));
    }

    [Fact]
    public async Task Cluster_leave_json_through_the_leaving_node_reports_the_shards_and_bytes_it_moved()
    {
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "64");
        var leaving = cluster.Nodes[1];
        await using var cache = await AkkaCacheClient.ConnectAsync(CliRunner.Host(cluster.Nodes[0]));
        for (int i = 0; i < KeyCount; i++) await cache.SetAsync(Key(i), Value(i));

        // asked through the node that leaves: the tool follows the rest of the drain through another member
        var run = await CliRunner.RunAsync("--host", CliRunner.Host(leaving), "cluster", "leave", leaving.Id, "--json");
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        var result = run.Json();
        Assert.True(result.GetProperty("left").GetBoolean());
        Assert.Equal(result.GetProperty("shardsTotal").GetInt32(), result.GetProperty("shardsMoved").GetInt32());
        Assert.True(result.GetProperty("shardsTotal").GetInt32() > 0);
        // a shard moving to a node that holds its replica copies nothing, so bytes may be 0; never negative or past the total
        Assert.InRange(result.GetProperty("bytesMoved").GetInt64(), 0, result.GetProperty("bytesTotal").GetInt64());
        Assert.Null(result.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Cluster_down_of_a_paused_node_promotes_its_replicas_long_before_the_failure_detector_would()
    {
        // a failure detector the test would never see give up: the failover can only come from cluster down
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "64", "--akka-config", await SlowDetectorAsync());
        var victim = cluster.Nodes[1];
        var survivors = cluster.Nodes.Where(n => n != victim).ToList();
        string host = CliRunner.Host(survivors[0]);
        await using var cache = await AkkaCacheClient.ConnectAsync(string.Join(",", survivors.Select(CliRunner.Host)));
        for (int i = 0; i < KeyCount; i++) await cache.SetAsync(Key(i), Value(i));
        // every write replicated before the node stops: failover loses only unreplicated writes
        await Poll.UntilAsync(async () =>
        {
            foreach (var node in cluster.Nodes)
                if (TestCluster.Field(await TestCluster.TextAsync(node, "INFO", "replication"), "akkacache_repl_lag_writes") != "0") return false;
            return true;
        }, "replication to catch up", TimeSpan.FromSeconds(30));

        victim.Pause();
        var suspect = await CliRunner.RunAsync("--host", host, "--timeout", "1", "cluster", "show", "--json");
        Assert.True(suspect.ExitCode == ExitCodes.Ok, suspect.ToString());
        Assert.Equal("suspect", NodeRow(suspect.Json(), victim.Id).GetProperty("status").GetString());

        var clock = Stopwatch.StartNew();
        var down = await CliRunner.RunAsync("--host", host, "cluster", "down", victim.Id, "--json");
        Assert.True(down.ExitCode == ExitCodes.Ok, down.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"cluster down took {clock.Elapsed}");
        Assert.Equal("marked down", down.Json().GetProperty("outcome").GetString());
        Assert.True(down.Json().GetProperty("shardsFailedOver").GetInt32() > 0);
        Assert.Equal(0, down.Json().GetProperty("shardsWithoutPrimary").GetInt32());

        var show = await CliRunner.RunAsync("--host", host, "--timeout", "1", "cluster", "show", "--json");
        // the leader drops a dead member from the map once its shards have failed over; until then it shows as down
        var row = show.Json().GetProperty("nodes").EnumerateArray().SingleOrDefault(n => n.GetProperty("id").GetString() == victim.Id);
        if (row.ValueKind == JsonValueKind.Object)
        {
            Assert.Equal("down", row.GetProperty("status").GetString());
            Assert.Equal(0, row.GetProperty("primaryShards").GetInt32());
        }
        Assert.Equal(2, show.Json().GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("status").GetString() == "up"));
        Assert.Equal(64, show.Json().GetProperty("nodes").EnumerateArray().Sum(n => n.GetProperty("primaryShards").GetInt32()));

        await cache.RefreshTopologyAsync();
        for (int i = 0; i < KeyCount; i++) Assert.Equal(Value(i), await cache.GetStringAsync(Key(i)));

        // again: Akka keeps the paused member as Down until it can be removed; nothing more to do
        var again = await CliRunner.RunAsync("--host", host, "cluster", "down", victim.Id, "--json");
        Assert.True(again.ExitCode == ExitCodes.Ok, again.ToString());
        Assert.Equal("already down", again.Json().GetProperty("outcome").GetString());
        victim.Resume();
    }

    [Fact]
    public async Task Cluster_down_of_a_killed_node_promotes_its_replicas()
    {
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "64", "--akka-config", await SlowDetectorAsync());
        var victim = cluster.Nodes[0];
        string host = CliRunner.Host(cluster.Nodes[2]);
        victim.Kill();
        await victim.WaitForExitAsync(TimeSpan.FromSeconds(10));
        // shown, not fatal: a dead member the failure detector does not give up on yet is suspect
        var show = await CliRunner.RunAsync("--host", host, "cluster", "show", "--json");
        Assert.True(show.ExitCode == ExitCodes.Ok, show.ToString());
        var row = NodeRow(show.Json(), victim.Id);
        Assert.Equal("suspect", row.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("keys").ValueKind);
        Assert.Equal(2, show.Json().GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("status").GetString() == "up"));

        var down = await CliRunner.RunAsync("--host", host, "cluster", "down", victim.Id);
        Assert.True(down.ExitCode == ExitCodes.Ok, down.ToString());
        Assert.Contains($"{victim.Id} marked down", down.Output);
        await cluster.WaitStableAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Cluster_down_of_a_live_node_fences_it_and_it_rejoins_empty()
    {
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "64");
        var victim = cluster.Nodes[2];
        string host = CliRunner.Host(cluster.Nodes[0]);
        string led;
        await using (var cache = await AkkaCacheClient.ConnectAsync(host))
            led = Enumerable.Range(0, 10_000).Select(Key).First(k => cache.OwnerOf(k) == CliRunner.Host(victim));
        await using var direct = await RespTestClient.ConnectAsync(victim.Port);
        (await direct.SendAsync("SET", led, "before")).AssertOk();

        var down = await CliRunner.RunAsync("--host", host, "cluster", "down", victim.Id, "--json");
        Assert.True(down.ExitCode == ExitCodes.Ok, down.ToString());
        Assert.Equal("marked down", down.Json().GetProperty("outcome").GetString());
        await Poll.UntilAsync(() => victim.Output.Contains("(downed after a pause or a partition); dropping every shard and joining again as a new member", StringComparison.Ordinal),
            "the downed node to learn it and drop what it held", TimeSpan.FromSeconds(30));
        // whatever it led a moment ago, it no longer takes writes for it
        var write = await direct.SendAsync("SET", led, "zombie");
        Assert.True(write.IsError, $"the downed node accepted a write for a shard it led: {write}");
        // a new incarnation: back in the map with shards handed to it again, and every node agreeing
        await cluster.WaitStableAsync(TimeSpan.FromSeconds(60));
        var show = await CliRunner.RunAsync("--host", host, "cluster", "show", "--json");
        Assert.Equal("up", NodeRow(show.Json(), victim.Id).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Cluster_join_brings_a_node_whose_seeds_are_gone_into_a_running_cluster()
    {
        await using var cluster = await TestCluster.StartAsync(1, "--shards", "64");
        int nowhere = NodeProcess.FreePort();
        await using var lost = NodeProcess.StartClusterNode($"127.0.0.1:{nowhere}", cluster.Name, "lost", extra: ["--shards", "64"]);
        await lost.WaitReadyAsync();
        Assert.Equal("fail", TestCluster.Field(await TestCluster.InfoAsync(lost), "cluster_state"));

        var join = await CliRunner.RunAsync("--host", CliRunner.Host(lost), "cluster", "join", cluster.SeedNodes.Split(',')[0]);
        Assert.True(join.ExitCode == ExitCodes.Ok, join.ToString());
        await Poll.UntilAsync(async () => TestCluster.Field(await TestCluster.InfoAsync(cluster.Nodes[0]), "cluster_known_nodes") == "2"
                                          && TestCluster.Field(await TestCluster.InfoAsync(lost), "cluster_state") == "ok",
            "the joined node to be a member holding shards", TimeSpan.FromSeconds(60));

        var refused = await CliRunner.RunAsync("--host", CliRunner.Host(lost), "cluster", "join", "not-an-address");
        Assert.Equal(ExitCodes.NodeError, refused.ExitCode);
        Assert.Contains("refused to join not-an-address", refused.Error);
    }

    /// <summary>HOCON for a failure detector that waits a minute: only CLUSTER DOWN can remove a member within a test.</summary>
    private static async Task<string> SlowDetectorAsync()
    {
        string path = Path.Combine(Path.GetTempPath(), $"akkacache-slow-detector-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(path, "akka.cluster.failure-detector.acceptable-heartbeat-pause = 60 s\n");
        return path;
    }

    private static JsonElement NodeRow(JsonElement show, string id) =>
        show.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == id);

    private static string Key(int i) => "cli:member:" + i.ToString(CultureInfo.InvariantCulture);

    private static string Value(int i) => "value-" + i.ToString(CultureInfo.InvariantCulture);
}
