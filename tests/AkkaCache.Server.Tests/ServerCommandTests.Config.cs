using System.Text;
using AkkaCache.Core.Eviction;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>CONFIG GET / SET / RESETSTAT / REWRITE.</summary>
public sealed class ServerCommandConfigTests
{
    private static OrderedDictionary<string, RespValue> Pairs(RespValue reply) => ServerCommandTests.Pairs(reply);

    [Fact]
    public async Task Config_get_returns_pairs_flat_in_resp2_and_as_a_map_in_resp3()
    {
        await using var node = await TestNode.StartAsync(o => o.MaxMemory = "64mb");
        await using var client = await node.ConnectAsync();
        var reply = await client.SendAsync("CONFIG", "GET", "maxmemory");
        Assert.Equal(RespValue.Array(RespValue.BulkString("maxmemory"), RespValue.BulkString("67108864")), reply);

        await client.SendAsync("HELLO", "3");
        reply = await client.SendAsync("CONFIG", "GET", "maxmemory");
        Assert.Equal(RespValue.Map(RespValue.BulkString("maxmemory"), RespValue.BulkString("67108864")), reply);
    }

    [Fact]
    public async Task Config_get_matches_globs_case_insensitively_and_several_patterns()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var lfu = Pairs(await client.SendAsync("CONFIG", "GET", "LFU-*"));
        Assert.Equal(["lfu-log-factor", "lfu-decay-time"], lfu.Keys);
        Assert.Equal("10", lfu["lfu-log-factor"].Text());
        Assert.Equal("1", lfu["lfu-decay-time"].Text());

        var several = Pairs(await client.SendAsync("CONFIG", "GET", "maxmemory*", "timeout", "maxmemory"));
        Assert.Contains("maxmemory", several.Keys);
        Assert.Contains("maxmemory-policy", several.Keys);
        Assert.Contains("maxmemory-samples", several.Keys);
        Assert.Contains("timeout", several.Keys);
        Assert.Equal(several.Keys.Count, several.Keys.Distinct().Count());

        // a name without glob characters is answered as it was asked
        Assert.Equal(RespValue.Array(RespValue.BulkString("MAXMEMORY"), RespValue.BulkString("0")), await client.SendAsync("CONFIG", "GET", "MAXMEMORY"));
        Assert.Equal(RespValue.Array(), await client.SendAsync("CONFIG", "GET", "no-such-parameter"));
        Assert.Equal(["lua-time-limit"], Pairs(await client.SendAsync("CONFIG", "GET", "lua-time-*")).Keys);
        Assert.Equal(["hz"], Pairs(await client.SendAsync("CONFIG", "GET", "h?")).Keys);
        Assert.Equal(["hz"], Pairs(await client.SendAsync("CONFIG", "GET", "[gh]z")).Keys);
        (await client.SendAsync("CONFIG", "GET")).AssertError("ERR wrong number of arguments for 'config|get' command");
    }

    [Fact]
    public async Task Config_get_star_answers_what_client_libraries_read_at_connect()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var all = Pairs(await client.SendAsync("CONFIG", "GET", "*"));
        var expected = new Dictionary<string, string>
        {
            ["save"] = "", ["appendonly"] = "no", ["databases"] = "1", ["maxclients"] = "10000", ["maxmemory-samples"] = "5",
            ["lfu-log-factor"] = "10", ["lfu-decay-time"] = "1", ["cluster-enabled"] = "no", ["notify-keyspace-events"] = "",
            ["lua-time-limit"] = "5000", ["busy-reply-threshold"] = "5000", ["slowlog-log-slower-than"] = "10000",
            ["slowlog-max-len"] = "128", ["dbfilename"] = "dump.rdb", ["appendfsync"] = "everysec", ["timeout"] = "0", ["hz"] = "10",
            ["maxmemory-policy"] = "allkeys-lru", ["proto-max-bulk-len"] = "1048576", ["requirepass"] = "", ["bind"] = "127.0.0.1",
            ["slave-read-only"] = "yes", ["replica-read-only"] = "yes",
            ["client-output-buffer-limit"] = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        };
        foreach (var (name, value) in expected)
        {
            Assert.True(all.ContainsKey(name), $"CONFIG GET * lacks {name}");
            Assert.Equal(value, all[name].Text());
        }
        Assert.Equal(node.Port.ToString(), all["port"].Text());
        Assert.Equal(Directory.GetCurrentDirectory(), all["dir"].Text());
    }

    [Fact]
    public async Task Config_set_maxmemory_changes_the_budget_and_info()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var before = Info(await client.SendAsync("INFO", "memory"));
        Assert.Equal("0", before["maxmemory"]);
        Assert.Equal("0B", before["maxmemory_human"]);

        (await client.SendAsync("CONFIG", "SET", "maxmemory", "100mb")).AssertOk();

        Assert.Equal(100L * 1024 * 1024, node.Engine.Memory.Limit);
        var after = Info(await client.SendAsync("INFO", "memory"));
        Assert.Equal("104857600", after["maxmemory"]);
        Assert.Equal("100.00M", after["maxmemory_human"]);
        Assert.Equal(RespValue.Array(RespValue.BulkString("maxmemory"), RespValue.BulkString("104857600")), await client.SendAsync("CONFIG", "GET", "maxmemory"));

        (await client.SendAsync("CONFIG", "SET", "maxmemory", "1g")).AssertOk();
        Assert.Equal(1_000_000_000L, node.Engine.Memory.Limit);
        Assert.Equal("953.67M", Info(await client.SendAsync("INFO", "memory"))["maxmemory_human"]);
    }

    [Fact]
    public async Task Config_set_maxmemory_policy_changes_the_engine_policy()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LFU")).AssertOk();
        Assert.Equal(EvictionPolicyKind.AllKeysLfu, node.Engine.MaxMemoryPolicy);
        Assert.Equal("allkeys-lfu", Pairs(await client.SendAsync("CONFIG", "GET", "maxmemory-policy"))["maxmemory-policy"].Text());
        Assert.Equal("allkeys-lfu", Info(await client.SendAsync("INFO", "memory"))["maxmemory_policy"]);

        (await client.SendAsync("CONFIG", "SET", "maxmemory-policy", "lru")).AssertError(
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction");
        Assert.Equal(EvictionPolicyKind.AllKeysLfu, node.Engine.MaxMemoryPolicy);
    }

    [Fact]
    public async Task Config_set_proto_max_bulk_len_limits_new_connections()
    {
        await using var node = await TestNode.StartAsync();
        await using var admin = await node.ConnectAsync();
        (await admin.SendAsync("CONFIG", "SET", "proto-max-bulk-len", "2kb")).AssertOk();
        Assert.Equal(2048, node.Node.RequestLimits.MaxBulkLength);
        Assert.Equal("2048", Pairs(await admin.SendAsync("CONFIG", "GET", "proto-max-bulk-len"))["proto-max-bulk-len"].Text());

        await using var client = await node.ConnectAsync();
        (await client.SendAsync("SET", "small", new string('x', 2000))).AssertOk();
        var tooBig = await client.SendAsync("SET", "big", new string('x', 4096));
        tooBig.AssertErrorStartsWith("ERR Protocol error");

        (await admin.SendAsync("CONFIG", "SET", "proto-max-bulk-len", "100")).AssertError(
            "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1024 and 2147482623 inclusive");
    }

    [Fact]
    public async Task Config_set_requirepass_applies_to_new_connections()
    {
        await using var node = await TestNode.StartAsync();
        await using var admin = await node.ConnectAsync();
        (await admin.SendAsync("CONFIG", "SET", "requirepass", "s3cret")).AssertOk();
        // the connection that set it stays authenticated, as in Redis
        Assert.Equal(RespValue.SimpleString("PONG"), await admin.SendAsync("PING"));
        Assert.Equal("s3cret", Pairs(await admin.SendAsync("CONFIG", "GET", "requirepass"))["requirepass"].Text());

        await using var client = await node.ConnectAsync();
        (await client.SendAsync("PING")).AssertError("NOAUTH Authentication required.");
        (await client.SendAsync("AUTH", "s3cret")).AssertOk();
        Assert.Equal(RespValue.SimpleString("PONG"), await client.SendAsync("PING"));

        (await admin.SendAsync("CONFIG", "SET", "requirepass", "")).AssertOk();
        await using var open = await node.ConnectAsync();
        Assert.Equal(RespValue.SimpleString("PONG"), await open.SendAsync("PING"));
    }

    [Fact]
    public async Task Config_set_several_parameters_is_all_or_nothing()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CONFIG", "SET", "maxmemory", "10mb", "timeout", "x")).AssertError(
            "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer");
        Assert.Equal(0, node.Engine.Memory.Limit);
        (await client.SendAsync("CONFIG", "SET", "maxmemory", "10mb", "nope", "1")).AssertError("ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
        Assert.Equal(0, node.Engine.Memory.Limit);

        (await client.SendAsync("CONFIG", "SET", "maxmemory", "10mb", "timeout", "30", "slowlog-max-len", "64")).AssertOk();
        Assert.Equal(10L * 1024 * 1024, node.Engine.Memory.Limit);
        var values = Pairs(await client.SendAsync("CONFIG", "GET", "timeout", "slowlog-max-len"));
        Assert.Equal("30", values["timeout"].Text());
        Assert.Equal("64", values["slowlog-max-len"].Text());
        Assert.Equal(30, node.Node.Options.Timeout);
    }

    [Theory]
    [InlineData("maxmemory", "lots", "argument must be a memory value")]
    [InlineData("maxmemory", "-1", "argument must be a memory value")]
    [InlineData("timeout", "-1", "argument must be between 0 and 2147483647 inclusive")]
    [InlineData("timeout", "1.5", "argument couldn't be parsed into an integer")]
    [InlineData("maxmemory-samples", "0", "argument must be between 1 and 2147483647 inclusive")]
    [InlineData("active-expire-effort", "11", "argument must be between 1 and 10 inclusive")]
    [InlineData("replica-read-only", "maybe", "argument must be 'yes' or 'no'")]
    [InlineData("appendfsync", "sometimes", "argument(s) must be one of the following: everysec, always, no")]
    [InlineData("databases", "16", "can't set immutable config")]
    [InlineData("port", "7000", "can't set immutable config")]
    [InlineData("cluster-enabled", "yes", "can't set immutable config")]
    [InlineData("dir", "/tmp", "can't set protected config")]
    [InlineData("dbfilename", "x.rdb", "can't set protected config")]
    [InlineData("appendonly", "yes", "AkkaCache has no append-only file")]
    [InlineData("save", "900 1", "AkkaCache does not save snapshots to disk")]
    [InlineData("notify-keyspace-events", "KEQ", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")]
    [InlineData("client-output-buffer-limit", "normal 1 2", "Wrong number of arguments in buffer limit configuration.")]
    [InlineData("client-output-buffer-limit", "vip 1 2 3", "Invalid client class specified in buffer limit configuration.")]
    [InlineData("client-output-buffer-limit", "normal x 2 3", "Error in hard, soft or soft_seconds setting in buffer limit configuration.")]
    public async Task Config_set_rejects_invalid_values_with_redis_wording(string parameter, string value, string why)
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CONFIG", "SET", parameter, value)).AssertError($"ERR CONFIG SET failed (possibly related to argument '{parameter}') - {why}");
    }

    [Fact]
    public async Task Config_set_accepts_what_client_libraries_and_test_suites_set()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CONFIG", "SET", "save", "")).AssertOk();
        (await client.SendAsync("CONFIG", "SET", "appendonly", "no")).AssertOk();
        (await client.SendAsync("CONFIG", "SET", "notify-keyspace-events", "")).AssertOk();
        (await client.SendAsync("CONFIG", "SET", "hz", "1000")).AssertOk();
        Assert.Equal("500", Pairs(await client.SendAsync("CONFIG", "GET", "hz"))["hz"].Text());
        (await client.SendAsync("CONFIG", "SET", "lua-time-limit", "100")).AssertOk();
        Assert.Equal("100", Pairs(await client.SendAsync("CONFIG", "GET", "busy-reply-threshold"))["busy-reply-threshold"].Text());
        (await client.SendAsync("CONFIG", "SET", "client-output-buffer-limit", "replica 1mb 512kb 30")).AssertOk();
        Assert.Equal("normal 0 0 0 slave 1048576 524288 30 pubsub 33554432 8388608 60",
            Pairs(await client.SendAsync("CONFIG", "GET", "client-output-buffer-limit"))["client-output-buffer-limit"].Text());
        (await client.SendAsync("CONFIG", "SET", "maxmemory", "1", "maxmemory", "2")).AssertError("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter");
    }

    [Fact]
    public async Task Config_set_argument_errors()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CONFIG", "SET", "maxmemory")).AssertError("ERR wrong number of arguments for 'config|set' command");
        (await client.SendAsync("CONFIG", "SET", "maxmemory", "1", "timeout")).AssertError("ERR syntax error");
        (await client.SendAsync("CONFIG", "SET", "no-such", "1")).AssertError("ERR Unknown option or number of arguments for CONFIG SET - 'no-such'");
        (await client.SendAsync("CONFIG", "FROB")).AssertError("ERR unknown subcommand 'FROB'. Try CONFIG HELP.");
        (await client.SendAsync("CONFIG")).AssertError("ERR wrong number of arguments for 'config' command");
    }

    [Fact]
    public async Task Config_set_timeout_closes_idle_clients()
    {
        var clock = new ManualClock();
        await using var node = await TestNode.StartAsync(clock: clock);
        await using var admin = await node.ConnectAsync();
        await using var idle = await node.ConnectAsync();
        await idle.SendAsync("PING");
        (await admin.SendAsync("CONFIG", "SET", "timeout", "5")).AssertOk();

        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(RespValue.SimpleString("PONG"), await admin.SendAsync("PING"));
        clock.Advance(TimeSpan.FromSeconds(4)); // idle 7 s, admin 4 s

        Assert.True(await idle.IsClosedByServerAsync());
        Assert.Equal(RespValue.SimpleString("PONG"), await admin.SendAsync("PING"));
    }

    [Fact]
    public async Task Config_resetstat_zeroes_the_info_counters()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("SET", "k", "v");
        await client.SendAsync("GET", "k");
        await client.SendAsync("GET", "missing");
        var stats = Info(await client.SendAsync("INFO", "stats"));
        Assert.Equal("1", stats["keyspace_hits"]);
        Assert.Equal("1", stats["keyspace_misses"]);

        (await client.SendAsync("CONFIG", "RESETSTAT")).AssertOk();
        stats = Info(await client.SendAsync("INFO", "stats"));
        Assert.Equal("0", stats["keyspace_hits"]);
        Assert.Equal("0", stats["keyspace_misses"]);
        Assert.Equal("0", stats["total_connections_received"]);
        // the commands since the reset: CONFIG RESETSTAT itself is counted once it completes
        Assert.InRange(long.Parse(stats["total_commands_processed"]), 0, 1);

        await client.SendAsync("GET", "k");
        Assert.Equal("1", Info(await client.SendAsync("INFO", "stats"))["keyspace_hits"]);
    }

    [Fact]
    public async Task Config_rewrite_reports_that_there_is_no_config_file()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CONFIG", "REWRITE")).AssertError("ERR The server is running without a config file");
    }

    internal static Dictionary<string, string> Info(RespValue reply)
    {
        Assert.True(reply.Type is RespType.BulkString or RespType.Verbatim, $"Expected INFO text, got {reply}");
        var fields = new Dictionary<string, string>();
        foreach (var line in Encoding.UTF8.GetString(reply.Bytes!).Split("\r\n"))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            Assert.True(colon > 0, $"INFO line without a colon: '{line}'");
            fields.Add(line[..colon], line[(colon + 1)..]);
        }
        return fields;
    }
}
