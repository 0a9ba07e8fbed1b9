using AkkaCache.Protocol;
using AkkaCache.Server.Commands;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>COMMAND (COUNT, INFO, DOCS, LIST, GETKEYS), MEMORY and OBJECT.</summary>
public sealed class ServerCommandIntrospectionTests
{
    private static OrderedDictionary<string, RespValue> Pairs(RespValue reply) => ServerCommandTests.Pairs(reply);

    [Fact]
    public async Task Command_and_command_count_cover_the_whole_table()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        long count = (await client.SendAsync("COMMAND", "COUNT")).Int();
        Assert.Equal(CommandTable.All.Count, count);
        var all = await client.SendAsync("COMMAND");
        Assert.Equal(count, all.Items!.Count);
        var names = all.Items.Select(entry => entry.Items![0].Text()).ToList();
        Assert.Contains("client", names);
        Assert.Contains("dbsize", names);
        Assert.All(names, name => Assert.Equal(name.ToLowerInvariant(), name));
        Assert.All(all.Items, entry => Assert.Equal(10, entry.Items!.Count));
        Assert.Equal(count, (await client.SendAsync("COMMAND", "INFO")).Items!.Count);
    }

    [Fact]
    public async Task Command_info_describes_commands_in_redis_7_format()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var reply = await client.SendAsync("COMMAND", "INFO", "dbsize", "no-such-command", "MEMORY");
        Assert.Equal(3, reply.Items!.Count);
        Assert.Equal(RespValue.Null, reply.Items[1]);

        var dbsize = reply.Items[0].Items!;
        Assert.Equal("dbsize", dbsize[0].Text());
        Assert.Equal(1, dbsize[1].Int());
        Assert.Equal(["readonly", "fast"], dbsize[2].Items!.Select(f => f.Text()));
        Assert.All(dbsize[2].Items!, f => Assert.Equal(RespType.SimpleString, f.Type));
        Assert.Equal(0, dbsize[3].Int());
        Assert.Equal(0, dbsize[4].Int());
        Assert.Equal(0, dbsize[5].Int());
        Assert.Equal(["@keyspace", "@read", "@fast"], dbsize[6].Items!.Select(f => f.Text()));
        Assert.Equal(RespValue.Array(), dbsize[8]);
        Assert.Equal(RespValue.Array(), dbsize[9]);

        // a container lists its subcommands, with their key positions and key specs
        var memory = reply.Items[2].Items!;
        Assert.Equal("memory", memory[0].Text());
        Assert.Equal(-2, memory[1].Int());
        Assert.Equal(0, memory[3].Int());
        var usage = memory[9].Items!.Single(s => s.Items![0].Text() == "memory|usage").Items!;
        Assert.Equal(-3, usage[1].Int());
        Assert.Equal(2, usage[3].Int());
        Assert.Equal(2, usage[4].Int());
        Assert.Equal(1, usage[5].Int());
        var spec = Pairs(usage[8].Items!.Single());
        Assert.Equal(["RO", "access"], spec["flags"].Items!.Select(f => f.Text()));
        var begin = Pairs(spec["begin_search"]);
        Assert.Equal("index", begin["type"].Text());
        Assert.Equal(2, Pairs(begin["spec"])["index"].Int());
        var find = Pairs(spec["find_keys"]);
        Assert.Equal("range", find["type"].Text());
        Assert.Equal(0, Pairs(find["spec"])["lastkey"].Int());
        Assert.Equal(1, Pairs(find["spec"])["keystep"].Int());

        // a subcommand by its full name
        var list = (await client.SendAsync("COMMAND", "INFO", "client|list")).Items!.Single().Items!;
        Assert.Equal("client|list", list[0].Text());
        Assert.Contains("admin", list[2].Items!.Select(f => f.Text()));
    }

    [Fact]
    public async Task Command_info_flags_are_sets_in_resp3()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("HELLO", "3");
        var entry = (await client.SendAsync("COMMAND", "INFO", "hello")).Items!.Single().Items!;
        Assert.Equal(RespType.Set, entry[2].Type);
        Assert.Contains("no_auth", entry[2].Items!.Select(f => f.Text()));
        Assert.Equal(RespType.Set, entry[6].Type);
        Assert.Equal(RespType.Set, entry[7].Type);
        Assert.Equal(RespType.Null, (await client.SendAsync("COMMAND", "INFO", "nope")).Items!.Single().Type);
    }

    [Fact]
    public async Task Command_docs_maps_names_to_their_documentation()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("HELLO", "3");
        var docs = await client.SendAsync("COMMAND", "DOCS", "ping", "no-such-command", "config");
        Assert.Equal(RespType.Map, docs.Type);
        var byName = Pairs(docs);
        Assert.Equal(["ping", "config"], byName.Keys);
        var ping = Pairs(byName["ping"]);
        Assert.Equal("Returns the server's liveliness response.", ping["summary"].Text());
        Assert.Equal("1.0.0", ping["since"].Text());
        Assert.Equal("connection", ping["group"].Text());
        var config = Pairs(byName["config"]);
        Assert.Equal("server", config["group"].Text());
        var subcommands = Pairs(config["subcommands"]);
        Assert.Contains("config|get", subcommands.Keys);
        Assert.Equal("2.0.0", Pairs(subcommands["config|get"])["since"].Text());

        Assert.Equal((await client.SendAsync("COMMAND", "COUNT")).Int(), Pairs(await client.SendAsync("COMMAND", "DOCS")).Count);
    }

    [Fact]
    public async Task Command_list_includes_subcommands_and_filters()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var all = (await client.SendAsync("COMMAND", "LIST")).Items!.Select(n => n.Text()).ToList();
        Assert.Contains("info", all);
        Assert.Contains("client|kill", all);
        Assert.Equal(all.Count, all.Distinct().Count());

        var clients = (await client.SendAsync("COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*")).Items!.Select(n => n.Text()).ToList();
        Assert.Contains("client|list", clients);
        Assert.DoesNotContain("client", clients);
        Assert.All(clients, n => Assert.StartsWith("client|", n));

        var connection = (await client.SendAsync("COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection")).Items!.Select(n => n.Text()).ToList();
        Assert.Contains("ping", connection);
        Assert.Contains("hello", connection);
        Assert.DoesNotContain("flushall", connection);
        Assert.Equal(RespValue.Array(), await client.SendAsync("COMMAND", "LIST", "FILTERBY", "MODULE", "search"));
        (await client.SendAsync("COMMAND", "LIST", "FILTERBY", "COLOR", "x")).AssertError("ERR syntax error");
        (await client.SendAsync("COMMAND", "LIST", "extra")).AssertError("ERR syntax error");
    }

    [Fact]
    public async Task Command_getkeys_uses_the_key_positions()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        Assert.Equal(RespValue.Array(RespValue.BulkString("k")), await client.SendAsync("COMMAND", "GETKEYS", "MEMORY", "USAGE", "k", "SAMPLES", "5"));
        Assert.Equal(RespValue.Array(RespValue.BulkString("k")), await client.SendAsync("COMMAND", "GETKEYS", "OBJECT", "FREQ", "k"));
        var withFlags = await client.SendAsync("COMMAND", "GETKEYSANDFLAGS", "OBJECT", "ENCODING", "k");
        Assert.Equal(RespValue.Array(RespValue.Array(RespValue.BulkString("k"), RespValue.Array(RespValue.SimpleString("RO"), RespValue.SimpleString("access")))), withFlags);
        (await client.SendAsync("COMMAND", "GETKEYS", "PING", "x")).AssertError("ERR The command has no key arguments");
        (await client.SendAsync("COMMAND", "GETKEYS", "MEMORY", "STATS")).AssertError("ERR The command has no key arguments");
        (await client.SendAsync("COMMAND", "GETKEYS", "NOPE", "x")).AssertError("ERR Invalid command specified");
        (await client.SendAsync("COMMAND", "GETKEYS", "OBJECT", "FREQ", "a", "b")).AssertError("ERR Invalid number of arguments specified for command");
        (await client.SendAsync("COMMAND", "GETKEYS")).AssertError("ERR wrong number of arguments for 'command|getkeys' command");
        (await client.SendAsync("COMMAND", "FOO")).AssertError("ERR unknown subcommand 'FOO'. Try COMMAND HELP.");
    }

    // ------------------------------------------------------------------ MEMORY

    [Fact]
    public async Task Memory_usage_counts_key_value_and_entry_overhead()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("SET", "key", "value-of-eleven")).AssertOk();
        long usage = (await client.SendAsync("MEMORY", "USAGE", "key")).Int();
        Assert.Equal(ServerCommands.EntryOverheadBytes + 3 + 15, usage);
        Assert.Equal(usage, (await client.SendAsync("MEMORY", "USAGE", "key", "SAMPLES", "0")).Int());
        Assert.Equal(RespValue.Null, await client.SendAsync("MEMORY", "USAGE", "absent"));

        (await client.SendAsync("SET", "key", new string('v', 1000))).AssertOk();
        Assert.Equal(ServerCommands.EntryOverheadBytes + 3 + 1000, (await client.SendAsync("memory", "usage", "key")).Int());

        (await client.SendAsync("MEMORY", "USAGE", "key", "SAMPLES", "x")).AssertError("ERR value is not an integer or out of range");
        (await client.SendAsync("MEMORY", "USAGE", "key", "SAMPLES", "-1")).AssertError("ERR syntax error");
        (await client.SendAsync("MEMORY", "USAGE", "key", "SAMPLES")).AssertError("ERR syntax error");
        (await client.SendAsync("MEMORY", "USAGE", "key", "FAST")).AssertError("ERR syntax error");
        (await client.SendAsync("MEMORY", "USAGE")).AssertError("ERR wrong number of arguments for 'memory|usage' command");
        (await client.SendAsync("MEMORY", "LEAKS")).AssertError("ERR unknown subcommand 'LEAKS'. Try MEMORY HELP.");
    }

    [Fact]
    public async Task Memory_stats_doctor_purge()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        for (int i = 0; i < 10; i++) await client.SendAsync("SET", $"k{i}", "v");
        var stats = Pairs(await client.SendAsync("MEMORY", "STATS"));
        Assert.Equal(10, stats["keys.count"].Int());
        Assert.Equal(node.Engine.Memory.Allocated, stats["total.allocated"].Int());
        Assert.True(stats["peak.allocated"].Int() >= stats["total.allocated"].Int());
        Assert.True(stats["dataset.bytes"].Int() > 0);
        Assert.Equal(RespType.BulkString, stats["dataset.percentage"].Type); // a double, as a bulk string in RESP2

        await client.SendAsync("HELLO", "3");
        var resp3 = await client.SendAsync("MEMORY", "STATS");
        Assert.Equal(RespType.Map, resp3.Type);
        Assert.Equal(RespType.Double, Pairs(resp3)["fragmentation"].Type);

        Assert.StartsWith("Hi Sam", (await client.SendAsync("MEMORY", "DOCTOR")).Text());
        (await client.SendAsync("MEMORY", "PURGE")).AssertOk();
        Assert.Equal("Stats not supported for the current allocator", (await client.SendAsync("MEMORY", "MALLOC-STATS")).Text());
    }

    // ------------------------------------------------------------------ OBJECT

    [Fact]
    public async Task Object_encoding_follows_redis_string_encodings()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("SET", "int", "12345");
        await client.SendAsync("SET", "negative", "-9223372036854775808");
        await client.SendAsync("SET", "padded", "007");
        await client.SendAsync("SET", "short", "hello");
        await client.SendAsync("SET", "edge", new string('e', 44));
        await client.SendAsync("SET", "long", new string('l', 45));
        Assert.Equal("int", (await client.SendAsync("OBJECT", "ENCODING", "int")).Text());
        Assert.Equal("int", (await client.SendAsync("OBJECT", "ENCODING", "negative")).Text());
        Assert.Equal("embstr", (await client.SendAsync("OBJECT", "ENCODING", "padded")).Text());
        Assert.Equal("embstr", (await client.SendAsync("OBJECT", "ENCODING", "short")).Text());
        Assert.Equal("embstr", (await client.SendAsync("OBJECT", "ENCODING", "edge")).Text());
        Assert.Equal("raw", (await client.SendAsync("OBJECT", "ENCODING", "long")).Text());
        Assert.Equal(RespValue.Null, await client.SendAsync("OBJECT", "ENCODING", "absent"));
        Assert.Equal(1, (await client.SendAsync("OBJECT", "REFCOUNT", "short")).Int());
        Assert.Equal(0, (await client.SendAsync("OBJECT", "IDLETIME", "short")).Int());
        Assert.Equal(RespValue.Null, await client.SendAsync("OBJECT", "REFCOUNT", "absent"));
        (await client.SendAsync("OBJECT", "ENCODING")).AssertError("ERR wrong number of arguments for 'object|encoding' command");
        (await client.SendAsync("OBJECT", "SIZE", "k")).AssertError("ERR unknown subcommand 'SIZE'. Try OBJECT HELP.");
    }

    [Fact]
    public async Task Object_freq_needs_an_lfu_policy()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("SET", "k", "v");
        (await client.SendAsync("OBJECT", "FREQ", "k")).AssertError(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        Assert.Equal(RespValue.Null, await client.SendAsync("OBJECT", "FREQ", "absent"));

        (await client.SendAsync("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")).AssertOk();
        await client.SendAsync("SET", "hot", "v");
        for (int i = 0; i < 20; i++) await client.SendAsync("GET", "hot");
        Assert.True((await client.SendAsync("OBJECT", "FREQ", "hot")).Int() >= 0);
        (await client.SendAsync("OBJECT", "IDLETIME", "hot")).AssertError(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");

        (await client.SendAsync("CONFIG", "SET", "maxmemory-policy", "volatile-lfu")).AssertOk();
        Assert.Equal(RespType.Integer, (await client.SendAsync("OBJECT", "FREQ", "hot")).Type);
    }
}
