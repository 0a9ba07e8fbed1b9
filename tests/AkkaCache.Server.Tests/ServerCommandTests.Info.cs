using System.Text;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>INFO, DBSIZE, FLUSHALL and FLUSHDB.</summary>
public sealed class ServerCommandInfoTests
{
    private static Dictionary<string, string> Info(RespValue reply) => ServerCommandConfigTests.Info(reply);

    private static List<string> Headers(RespValue reply) =>
        Encoding.UTF8.GetString(reply.Bytes!).Split("\r\n").Where(l => l.StartsWith('#')).ToList();

    [Fact]
    public async Task Info_default_has_redis_sections_in_order()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var reply = await client.SendAsync("INFO");
        Assert.Equal(RespType.BulkString, reply.Type);
        Assert.Equal(
            ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Modules", "# Errorstats", "# Cluster", "# Keyspace"],
            Headers(reply));
        string text = reply.Text();
        Assert.StartsWith("# Server\r\nredis_version:7.2.0\r\n", text);
        Assert.Contains("\r\n\r\n# Clients\r\n", text);
        Assert.EndsWith("# Keyspace\r\n", text); // no keys: no db0 line
        Assert.Equal(Headers(reply), Headers(await client.SendAsync("INFO", "default")));
    }

    [Fact]
    public async Task Info_all_and_everything_add_the_optional_sections()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var all = Headers(await client.SendAsync("INFO", "all"));
        Assert.Contains("# Commandstats", all);
        Assert.Contains("# Latencystats", all);
        Assert.Equal(all, Headers(await client.SendAsync("INFO", "everything")));
    }

    [Fact]
    public async Task Info_sections_are_selected_case_insensitively_in_canonical_order()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        Assert.Equal(["# Clients"], Headers(await client.SendAsync("INFO", "CLIENTS")));
        Assert.Equal(["# Server", "# Memory"], Headers(await client.SendAsync("INFO", "memory", "Server")));
        Assert.Equal(["# Replication"], Headers(await client.SendAsync("INFO", "replication", "nonsense")));
        Assert.Equal("", (await client.SendAsync("INFO", "nonsense")).Text());
    }

    [Fact]
    public async Task Info_fields_clients_parse()
    {
        await using var node = await TestNode.StartAsync(o => o.MaxMemory = "32mb");
        await using var client = await node.ConnectAsync();
        await using var other = await node.ConnectAsync();
        await other.SendAsync("PING");
        var info = Info(await client.SendAsync("INFO", "everything"));

        Assert.Equal("7.2.0", info["redis_version"]);
        Assert.Equal("standalone", info["redis_mode"]);
        Assert.Equal("0", info["cluster_enabled"]);
        Assert.Equal("no", (await client.SendAsync("CONFIG", "GET", "cluster-enabled")).Items![1].AsString());
        Assert.Equal(Environment.ProcessId.ToString(), info["process_id"]);
        Assert.Equal(node.Port.ToString(), info["tcp_port"]);
        Assert.Equal(40, info["run_id"].Length);
        Assert.Equal("64", info["arch_bits"]);
        Assert.Equal("10", info["hz"]);
        Assert.True(long.Parse(info["uptime_in_seconds"]) >= 0);
        Assert.Equal("0", info["uptime_in_days"]);
        Assert.False(string.IsNullOrEmpty(info["os"]));
        Assert.False(string.IsNullOrEmpty(info["executable"]));

        Assert.Equal("2", info["connected_clients"]);
        Assert.Equal("10000", info["maxclients"]);

        Assert.Equal(node.Engine.Memory.Allocated.ToString(), info["used_memory"]);
        Assert.True(long.Parse(info["used_memory_rss"]) > 0);
        Assert.True(long.Parse(info["used_memory_peak"]) >= long.Parse(info["used_memory"]));
        Assert.Equal("33554432", info["maxmemory"]);
        Assert.Equal("32.00M", info["maxmemory_human"]);
        Assert.Equal("allkeys-lru", info["maxmemory_policy"]);
        Assert.Matches(@"^\d+\.\d\d$", info["mem_fragmentation_ratio"]);
        Assert.Matches(@"^\d+(\.\d\dK|\.\d\dM|\.\d\dG|B)$", info["used_memory_human"]);

        Assert.Equal("0", info["loading"]);
        Assert.Equal("0", info["rdb_changes_since_last_save"]);
        Assert.Equal("0", info["aof_enabled"]);
        Assert.Equal("master", info["role"]);
        Assert.Equal("0", info["connected_slaves"]);
        Assert.Equal("0", info["master_repl_offset"]);
        Assert.Equal("0", info["cluster_enabled"]);
        Assert.Equal("0", info["instantaneous_ops_per_sec"]);
        Assert.True(long.Parse(info["total_connections_received"]) >= 2);
        Assert.True(long.Parse(info["total_commands_processed"]) >= 1);
        Assert.Matches(@"^\d+\.\d{6}$", info["used_cpu_user"]);
    }

    [Fact]
    public async Task Info_stats_and_keyspace_follow_the_data()
    {
        var clock = new ManualClock();
        await using var node = await TestNode.StartAsync(clock: clock);
        await using var client = await node.ConnectAsync();
        await client.SendAsync("SET", "a", "1");
        await client.SendAsync("SET", "b", "2");
        (await client.SendAsync("SET", "soon", "3", "PX", "100")).AssertOk();
        await client.SendAsync("GET", "a");
        await client.SendAsync("GET", "a");
        await client.SendAsync("GET", "missing");

        var info = Info(await client.SendAsync("INFO", "stats", "keyspace"));
        Assert.Equal("2", info["keyspace_hits"]);
        Assert.Equal("1", info["keyspace_misses"]);
        Assert.Equal("0", info["expired_keys"]);
        Assert.Equal("0", info["evicted_keys"]);
        Assert.Equal("keys=3,expires=1,avg_ttl=0", info["db0"]);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await client.SendAsync("GET", "soon")).IsNull);
        info = Info(await client.SendAsync("INFO", "stats", "keyspace"));
        Assert.Equal("1", info["expired_keys"]);
        Assert.Equal("keys=2,expires=0,avg_ttl=0", info["db0"]);

        (await client.SendAsync("FLUSHALL")).AssertOk();
        Assert.DoesNotContain("db0", Info(await client.SendAsync("INFO", "keyspace")).Keys);
    }

    [Fact]
    public async Task Info_total_commands_processed_grows()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        long before = long.Parse(Info(await client.SendAsync("INFO", "stats"))["total_commands_processed"]);
        for (int i = 0; i < 5; i++) await client.SendAsync("PING");
        long after = long.Parse(Info(await client.SendAsync("INFO", "stats"))["total_commands_processed"]);
        Assert.Equal(before + 6, after); // five PINGs and the first INFO
    }

    [Fact]
    public async Task Info_is_a_verbatim_string_in_resp3()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("HELLO", "3");
        var reply = await client.SendAsync("INFO", "server");
        Assert.Equal(RespType.Verbatim, reply.Type);
        Assert.Equal("txt", reply.Format);
        Assert.StartsWith("# Server\r\n", reply.Text());
        Assert.Equal("7.2.0", Info(reply)["redis_version"]);
    }

    [Fact]
    public async Task Dbsize_counts_keys_on_every_shard()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        Assert.Equal(0, (await client.SendAsync("DBSIZE")).Int());
        for (int i = 0; i < 200; i++) await client.SendAsync("SET", $"key:{i}", "v");
        Assert.Equal(200, (await client.SendAsync("DBSIZE")).Int());
        await client.SendAsync("DEL", "key:0");
        Assert.Equal(199, (await client.SendAsync("DBSIZE")).Int());
        (await client.SendAsync("DBSIZE", "x")).AssertError("ERR wrong number of arguments for 'dbsize' command");
    }

    [Fact]
    public async Task Flushall_and_flushdb_remove_every_key_and_give_memory_back()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        long empty = node.Engine.Memory.Allocated;
        for (int i = 0; i < 500; i++) await client.SendAsync("SET", $"key:{i}", new string('x', 200));
        Assert.True(node.Engine.Memory.Allocated > empty);

        (await client.SendAsync("FLUSHALL")).AssertOk();
        Assert.Equal(0, (await client.SendAsync("DBSIZE")).Int());
        Assert.True((await client.SendAsync("GET", "key:1")).IsNull);
        Assert.Equal(empty, node.Engine.Memory.Allocated);

        await client.SendAsync("SET", "a", "1");
        (await client.SendAsync("FLUSHDB", "ASYNC")).AssertOk();
        Assert.Equal(0, (await client.SendAsync("DBSIZE")).Int());
        await client.SendAsync("SET", "a", "1");
        (await client.SendAsync("flushall", "sync")).AssertOk();
        Assert.Equal(0, (await client.SendAsync("DBSIZE")).Int());

        (await client.SendAsync("FLUSHALL", "NOW")).AssertError("ERR syntax error");
        (await client.SendAsync("FLUSHDB", "ASYNC", "SYNC")).AssertError("ERR syntax error");
    }

    [Fact]
    public async Task Flushall_inside_multi_is_atomic_with_the_transaction()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("SET", "before", "1");
        (await client.SendAsync("MULTI")).AssertOk();
        await client.SendAsync("FLUSHALL");
        await client.SendAsync("SET", "after", "2");
        await client.SendAsync("DBSIZE");
        var exec = await client.SendAsync("EXEC");
        Assert.Equal(RespValue.Array(RespValue.SimpleString("OK"), RespValue.SimpleString("OK"), RespValue.FromInteger(1)), exec);
    }
}
