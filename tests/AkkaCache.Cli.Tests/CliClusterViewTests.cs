using System.Globalization;
using System.Text.Json;
using AkkaCache.Cli.Tests.Infrastructure;

namespace AkkaCache.Cli.Tests;

/// <summary>The read-only commands and flush against one real 3-node cluster (node processes joined through seed nodes).</summary>
[Collection(ClusterProcesses.Name)]
public sealed class CliClusterViewTests(ThreeNodeCluster fixture) : IClassFixture<ThreeNodeCluster>
{
    private const int ShardCount = 64;

    [Fact]
    public async Task Cluster_show_json_lists_every_node_up_with_the_leader_epoch_and_all_shards()
    {
        var run = await CliRunner.RunAsync("--host", fixture.Host, "cluster", "show", "--json");
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        var json = run.Json();
        Assert.Equal(3, json.GetProperty("count").GetInt32());
        var nodes = json.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(fixture.Cluster.Nodes.Select(n => n.Id).Order(), nodes.Select(n => n.GetProperty("id").GetString()).Order());
        Assert.All(nodes, n => Assert.Equal("up", n.GetProperty("status").GetString()));
        Assert.Equal(ShardCount, nodes.Sum(n => n.GetProperty("primaryShards").GetInt32()));
        Assert.Equal(ShardCount, nodes.Sum(n => n.GetProperty("replicaShards").GetInt32()));
        string leader = json.GetProperty("leader").GetString()!;
        Assert.Contains(leader, fixture.Cluster.Nodes.Select(n => n.Id));
        Assert.Single(nodes, n => n.GetProperty("leader").GetBoolean());
        Assert.All(nodes, n => Assert.True(n.GetProperty("memoryUsed").GetInt64() > 0));
        Assert.All(nodes, n => Assert.Equal("Up", n.GetProperty("akkaStatus").GetString()));
        Assert.All(nodes, n => Assert.Contains("akkacache", n.GetProperty("roles").EnumerateArray().Select(r => r.GetString())));
        Assert.All(nodes, n => Assert.True(n.GetProperty("leaseValid").GetBoolean()));

        // the epoch is the one every node follows
        var info = await TestCluster.InfoAsync(fixture.Cluster.Nodes[1]);
        Assert.Equal(TestCluster.Field(info, "cluster_current_epoch"), json.GetProperty("epoch").GetInt64().ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Cluster_sharding_regions_and_shard_stats_account_for_every_shard_and_member()
    {
        var regions = await CliRunner.RunAsync("--host", fixture.Host, "cluster", "sharding", "regions", "--json");
        Assert.True(regions.ExitCode == ExitCodes.Ok, regions.ToString());
        var region = Assert.Single(regions.Json().GetProperty("regions").EnumerateArray());
        Assert.Equal("akkacache-shards", region.GetProperty("type").GetString());
        Assert.Equal(ShardCount, region.GetProperty("shards").GetInt32());
        Assert.Equal(fixture.Cluster.Nodes.Select(n => n.Id).Order(), region.GetProperty("members").EnumerateArray().Select(m => m.GetString()).Order());

        var stats = await CliRunner.RunAsync("--host", fixture.Host, "cluster", "sharding", "shard-stats", "--json");
        Assert.True(stats.ExitCode == ExitCodes.Ok, stats.ToString());
        var json = stats.Json();
        Assert.Equal(ShardCount, json.GetProperty("totalLed").GetInt32());
        var rows = json.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(ShardCount, rows.Sum(r => r.GetProperty("shardsReplicated").GetInt32()));
        Assert.All(rows, r => Assert.True(r.GetProperty("shardsLed").GetInt32() > 0));
        Assert.Equal(rows.Sum(r => r.GetProperty("keys").GetInt64()), json.GetProperty("totalKeys").GetInt64());

        var table = await CliRunner.RunAsync("--host", fixture.Host, "cluster", "sharding", "shard-stats");
        Assert.Contains($"Total: {ShardCount} of {ShardCount} shards led", table.Output);
    }

    [Fact]
    public async Task Cluster_show_table_names_each_node_status_and_the_count()
    {
        var run = await CliRunner.RunAsync("--host", fixture.Host, "cluster", "show");
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        foreach (var node in fixture.Cluster.Nodes)
            Assert.Contains($"127.0.0.1:{node.Port}", run.Output);
        Assert.Contains("(leader)", run.Output);
        Assert.Contains("Count: 3 nodes", run.Output);
        Assert.Matches(@"Epoch: \d+", run.Output);
    }

    [Fact]
    public async Task Cluster_leader_agrees_with_the_node_that_says_it_leads()
    {
        var run = await CliRunner.RunAsync("--host", fixture.Host, "cluster", "leader", "--json");
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        string leader = run.Json().GetProperty("leader").GetString()!;
        var node = fixture.Cluster.Nodes.Single(n => n.Id == leader);
        Assert.Equal("1", TestCluster.Field(await TestCluster.TextAsync(node, "INFO", "cluster"), "cluster_leader"));
        Assert.Equal(CliRunner.Host(node), run.Json().GetProperty("address").GetString());
    }

    [Fact]
    public async Task Shards_show_json_covers_every_slot_once_and_filters_by_node()
    {
        var run = await CliRunner.RunAsync("--host", fixture.Host, "shards", "show", "--json");
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        var shards = run.Json().GetProperty("shards").EnumerateArray().ToList();
        Assert.Equal(ShardCount, shards.Count);
        Assert.Equal(0, shards[0].GetProperty("firstSlot").GetInt32());
        Assert.Equal(16383, shards[^1].GetProperty("lastSlot").GetInt32());
        for (int i = 1; i < shards.Count; i++)
            Assert.Equal(shards[i - 1].GetProperty("lastSlot").GetInt32() + 1, shards[i].GetProperty("firstSlot").GetInt32());
        Assert.All(shards, s => Assert.NotEqual(s.GetProperty("primary").GetString(), s.GetProperty("replicas")[0].GetString()));

        string node = fixture.Cluster.Nodes[2].Id;
        var filtered = await CliRunner.RunAsync("--host", fixture.Host, "shards", "show", "--node", node, "--json");
        Assert.True(filtered.ExitCode == ExitCodes.Ok, filtered.ToString());
        var held = filtered.Json().GetProperty("shards").EnumerateArray().ToList();
        int expected = shards.Count(s => s.GetProperty("primary").GetString() == node || s.GetProperty("replicas").EnumerateArray().Any(r => r.GetString() == node));
        Assert.Equal(expected, held.Count);
        Assert.InRange(held.Count, 1, ShardCount - 1);
    }

    [Fact]
    public async Task Shards_move_pins_a_shard_on_the_member_and_the_balancer_keeps_it_there()
    {
        var before = (await CliRunner.RunAsync("--host", fixture.Host, "shards", "show", "--json")).Json().GetProperty("shards").EnumerateArray().ToList();
        string from = fixture.Cluster.Nodes[0].Id, to = fixture.Cluster.Nodes[1].Id;
        int shard = before.First(s => s.GetProperty("primary").GetString() == from).GetProperty("shard").GetInt32();
        string shardText = shard.ToString(CultureInfo.InvariantCulture);

        var run = await CliRunner.RunAsync("--host", fixture.Host, "shards", "move", shardText, to, "--json");
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Equal(from, run.Json().GetProperty("from").GetString());
        Assert.Equal(to, run.Json().GetProperty("to").GetString());

        // once the balancer has evened out the load, the shard is still where it was put
        await fixture.Cluster.WaitStableAsync();
        var after = (await CliRunner.RunAsync("--host", fixture.Host, "shards", "show", "--json")).Json().GetProperty("shards").EnumerateArray().ToList();
        Assert.Equal(to, after[shard].GetProperty("primary").GetString());
        Assert.Equal(to, after[shard].GetProperty("pinnedTo").GetString());
        var counts = fixture.Cluster.Nodes.Select(n => after.Count(s => s.GetProperty("primary").GetString() == n.Id)).ToList();
        Assert.True(counts.Max() - counts.Min() <= 1, string.Join(",", counts));

        var unpin = await CliRunner.RunAsync("--host", fixture.Host, "shards", "unpin", shardText, "--json");
        Assert.True(unpin.ExitCode == ExitCodes.Ok, unpin.ToString());
        Assert.True(unpin.Json().GetProperty("unpinned").GetBoolean());

        var badShard = await CliRunner.RunAsync("--host", fixture.Host, "shards", "move", "64", to);
        Assert.Equal(ExitCodes.Usage, badShard.ExitCode);
        Assert.Contains("has shards 0..63", badShard.Error);
        var badNode = await CliRunner.RunAsync("--host", fixture.Host, "shards", "move", "0", "nope");
        Assert.Equal(ExitCodes.NodeError, badNode.ExitCode);
        Assert.Contains("unknown node 'nope'", badNode.Error);
    }

    [Fact]
    public async Task Hotkeys_json_finds_a_key_read_hard_on_its_owner()
    {
        await using var cache = await AkkaCacheClient.ConnectAsync(fixture.Seeds);
        await cache.SetAsync("cli:hot", "value");
        string owner = cache.OwnerOf("cli:hot")!;
        await using var direct = await RespTestClient.ConnectAsync(int.Parse(owner.Split(':')[1], CultureInfo.InvariantCulture));
        JsonElement found = default;
        await Poll.UntilAsync(async () =>
        {
            for (int i = 0; i < 200; i++) await direct.SendAsync("GET", "cli:hot");
            var run = await CliRunner.RunAsync("--host", fixture.Host, "hotkeys", "--json");
            Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
            found = run.Json().EnumerateArray().FirstOrDefault(k => k.GetProperty("key").GetString() == "cli:hot");
            return found.ValueKind == JsonValueKind.Object;
        }, "cli:hot to show in akkacache hotkeys", TimeSpan.FromSeconds(30));
        Assert.True(found.GetProperty("opsPerSecond").GetInt64() >= 10);
        var ownerId = fixture.Cluster.Nodes.Single(n => CliRunner.Host(n) == owner).Id;
        Assert.Contains(ownerId, found.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()));
        // promoted or not yet, the copies listed are on other nodes than the owner
        Assert.DoesNotContain(ownerId, found.GetProperty("replicatedTo").EnumerateArray().Select(n => n.GetString()));
    }

    [Fact]
    public async Task Stats_once_json_counts_the_commands_each_node_served()
    {
        await using var cache = await AkkaCacheClient.ConnectAsync(fixture.Seeds);
        // reads for as long as the tool samples, so both of its INFO readings fall inside the load
        using var sampling = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            for (int i = 0; !sampling.IsCancellationRequested; i++) await cache.GetAsync("cli:stats:" + (i % 100).ToString(CultureInfo.InvariantCulture));
        });
        var run = await CliRunner.RunAsync("--host", fixture.Host, "stats", "--once", "--interval", "1", "--json");
        sampling.Cancel();
        await load;
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        var rows = run.Json().EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal("up", r.GetProperty("status").GetString()));
        Assert.True(rows.Sum(r => r.GetProperty("opsPerSecond").GetDouble()) > 0, run.Output);
        // misses only (the keys do not exist): where there were reads, the hit rate is 0
        Assert.Contains(rows, r => r.GetProperty("hitRate").ValueKind == JsonValueKind.Number && r.GetProperty("hitRate").GetDouble() == 0);
    }

    [Fact]
    public async Task Slowlog_json_either_lists_entries_or_says_the_nodes_lack_slowlog()
    {
        var run = await CliRunner.RunAsync("--host", fixture.Host, "slowlog", "--json");
        if (run.ExitCode == ExitCodes.Ok) Assert.Equal(JsonValueKind.Array, run.Json().ValueKind);
        else
        {
            Assert.Equal(ExitCodes.NodeError, run.ExitCode);
            Assert.Contains("does not implement SLOWLOG", run.Error);
        }
    }

    [Fact]
    public async Task Flush_all_refuses_without_yes_when_stdin_is_not_a_terminal_and_flushes_with_it()
    {
        await using var cache = await AkkaCacheClient.ConnectAsync(fixture.Seeds);
        for (int i = 0; i < 100; i++) await cache.SetAsync("cli:flush:" + i.ToString(CultureInfo.InvariantCulture), "v");

        var refused = await CliRunner.RunAsync("--host", fixture.Host, "flush", "--all");
        Assert.Equal(ExitCodes.Aborted, refused.ExitCode);
        Assert.Contains("refusing to flush without --yes", refused.Error);
        Assert.Equal("v", await cache.GetStringAsync("cli:flush:0"));

        var declined = await CliRunner.RunAsync(new CliOptions { InputIsTerminal = true, Input = "no\n" }, "--host", fixture.Host, "flush", "--all");
        Assert.Equal(ExitCodes.Aborted, declined.ExitCode);
        Assert.Contains("Type 'yes' to confirm", declined.Output);
        Assert.Equal("v", await cache.GetStringAsync("cli:flush:0"));

        var flushed = await CliRunner.RunAsync("--host", fixture.Host, "flush", "--all", "--yes", "--json");
        Assert.True(flushed.ExitCode == ExitCodes.Ok, flushed.ToString());
        Assert.Equal(3, flushed.Json().GetProperty("flushed").GetArrayLength());
        for (int i = 0; i < 100; i++) Assert.Null(await cache.GetStringAsync("cli:flush:" + i.ToString(CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Flush_asks_on_a_terminal_and_goes_ahead_on_yes()
    {
        await using var cache = await AkkaCacheClient.ConnectAsync(fixture.Seeds);
        await cache.SetAsync("cli:flush:tty", "v");
        var run = await CliRunner.RunAsync(new CliOptions { InputIsTerminal = true, Input = "yes\n" }, "--host", fixture.Host, "flush", "--all");
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains("Flushed 3 of 3 nodes", run.Output);
        Assert.Null(await cache.GetStringAsync("cli:flush:tty"));
    }

    [Fact]
    public async Task An_unknown_node_id_is_a_node_error_that_lists_the_known_ones()
    {
        foreach (var args in new[] { new[] { "shards", "show", "--node", "nope" }, ["cluster", "leave", "nope"], ["cluster", "down", "nope"] })
        {
            var run = await CliRunner.RunAsync(["--host", fixture.Host, .. args]);
            Assert.True(run.ExitCode == ExitCodes.NodeError, string.Join(' ', args) + ": " + run);
            Assert.Contains("unknown node 'nope'", run.Error);
            Assert.Contains(fixture.Cluster.Nodes[0].Id, run.Error);
        }
    }

    [Fact]
    public async Task The_built_executable_reads_the_host_from_the_environment()
    {
        var run = await CliRunner.RunProcessAsync(new Dictionary<string, string> { [CliApp.HostVariable] = fixture.Host }, "cluster", "show", "--json");
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Equal(3, run.Json().GetProperty("count").GetInt32());

        var refused = await CliRunner.RunProcessAsync(null, "--host", fixture.Host, "flush", "--all");
        Assert.Equal(ExitCodes.Aborted, refused.ExitCode);
    }
}
