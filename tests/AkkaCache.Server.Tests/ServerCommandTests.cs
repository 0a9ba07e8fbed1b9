using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>Connection commands (PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO) and the small server ones (TIME, LASTSAVE, ROLE, DEBUG, FUNCTION).</summary>
public sealed class ServerCommandTests
{
    [Fact]
    public async Task Ping_and_echo_answer_like_redis()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var pong = await client.SendAsync("PING");
        Assert.Equal(RespValue.SimpleString("PONG"), pong);
        Assert.Equal(RespValue.BulkString("hello"), await client.SendAsync("PING", "hello"));
        (await client.SendAsync("PING", "a", "b")).AssertError("ERR wrong number of arguments for 'ping' command");
        Assert.Equal(RespValue.BulkString("x y"), await client.SendAsync("ECHO", "x y"));
        (await client.SendAsync("ECHO")).AssertError("ERR wrong number of arguments for 'echo' command");

        await client.SendAsync("HELLO", "3");
        Assert.Equal(RespValue.SimpleString("PONG"), await client.SendAsync("PING"));
        Assert.Equal(RespValue.BulkString("m"), await client.SendAsync("PING", "m"));
    }

    [Fact]
    public async Task Quit_replies_ok_and_closes_the_connection()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("QUIT")).AssertOk();
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Select_accepts_only_database_zero()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("SELECT", "0")).AssertOk();
        (await client.SendAsync("SELECT", "1")).AssertError("ERR DB index is out of range");
        (await client.SendAsync("SELECT", "-1")).AssertError("ERR DB index is out of range");
        (await client.SendAsync("SELECT", "x")).AssertError("ERR value is not an integer or out of range");
        (await client.SendAsync("SELECT")).AssertError("ERR wrong number of arguments for 'select' command");
    }

    [Fact]
    public async Task Time_and_lastsave_come_from_the_node_clock()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var node = await TestNode.StartAsync(clock: clock);
        await using var client = await node.ConnectAsync();
        long start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

        clock.Advance(TimeSpan.FromMilliseconds(1500.25));
        var time = await client.SendAsync("TIME");
        Assert.Equal(RespType.Array, time.Type);
        Assert.Equal([RespValue.BulkString((start + 1).ToString()), RespValue.BulkString("500250")], time.Items!);
        (await client.SendAsync("TIME", "x")).AssertError("ERR wrong number of arguments for 'time' command");

        Assert.Equal(start, (await client.SendAsync("LASTSAVE")).Int());
    }

    [Fact]
    public async Task Role_is_master_without_replicas()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        Assert.Equal(RespValue.Array(RespValue.BulkString("master"), RespValue.FromInteger(0), RespValue.Array()), await client.SendAsync("ROLE"));
    }

    [Fact]
    public async Task Debug_supports_only_sleep_zero()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("DEBUG", "SLEEP", "0")).AssertOk();
        (await client.SendAsync("DEBUG", "sleep", "1")).AssertError("ERR DEBUG SLEEP is only supported with 0 seconds by AkkaCache");
        (await client.SendAsync("DEBUG", "object", "k")).AssertError("ERR DEBUG OBJECT is not supported by AkkaCache");
        (await client.SendAsync("DEBUG")).AssertError("ERR wrong number of arguments for 'debug' command");
    }

    [Fact]
    public async Task Function_flush_is_a_no_op_and_the_library_is_empty()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("FUNCTION", "FLUSH")).AssertOk();
        (await client.SendAsync("FUNCTION", "FLUSH", "ASYNC")).AssertOk();
        (await client.SendAsync("function", "flush", "sync")).AssertOk();
        (await client.SendAsync("FUNCTION", "FLUSH", "LATER")).AssertError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        Assert.Equal(RespValue.Array(), await client.SendAsync("FUNCTION", "LIST"));
        (await client.SendAsync("FUNCTION", "LOAD", "x")).AssertError("ERR unknown subcommand 'LOAD'. Try FUNCTION HELP.");
        (await client.SendAsync("FUNCTION")).AssertError("ERR wrong number of arguments for 'function' command");
    }

    [Fact]
    public async Task Help_subcommands_list_every_subcommand()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        foreach (var (container, expected) in new[] { ("CLIENT", "KILL"), ("CONFIG", "SET"), ("COMMAND", "DOCS"), ("MEMORY", "USAGE"), ("OBJECT", "FREQ"), ("FUNCTION", "FLUSH") })
        {
            var help = await client.SendAsync(container, "HELP");
            Assert.Equal(RespType.Array, help.Type);
            Assert.Equal($"{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", help.Items![0].Text());
            Assert.All(help.Items, line => Assert.Equal(RespType.SimpleString, line.Type));
            Assert.Contains(help.Items, line => line.Text().StartsWith(expected, StringComparison.Ordinal));
            Assert.Equal("HELP", help.Items[^2].Text());
        }
    }

    // ------------------------------------------------------------------ RESET

    [Fact]
    public async Task Reset_discards_the_transaction_and_restores_connection_defaults()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("HELLO", "3", "SETNAME", "worker");
        (await client.SendAsync("MULTI")).AssertOk();
        Assert.Equal("QUEUED", (await client.SendAsync("SET", "k", "v")).Text());

        Assert.Equal(RespValue.SimpleString("RESET"), await client.SendAsync("RESET"));

        Assert.True((await client.SendAsync("EXEC")).IsError, "the transaction is gone");
        Assert.True((await client.SendAsync("GET", "k")).IsNull);
        Assert.Equal(RespValue.Null, await client.SendAsync("CLIENT", "GETNAME"));
        var hello = Pairs(await client.SendAsync("HELLO"));
        Assert.Equal(2, hello["proto"].Int());
        // RESP2 again: a map is a flat array
        Assert.Equal(RespType.Array, (await client.SendAsync("CONFIG", "GET", "timeout")).Type);
    }

    [Fact]
    public async Task Reset_drops_watches()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await using var other = await node.ConnectAsync();
        (await client.SendAsync("WATCH", "w")).AssertOk();
        await client.SendAsync("RESET");
        (await other.SendAsync("SET", "w", "changed")).AssertOk();
        (await client.SendAsync("MULTI")).AssertOk();
        await client.SendAsync("SET", "w", "mine");
        var exec = await client.SendAsync("EXEC");
        Assert.Equal(RespType.Array, exec.Type);
        Assert.Equal("mine", (await client.SendAsync("GET", "w")).Text());
    }

    [Fact]
    public async Task Reset_deauthenticates_when_a_password_is_required()
    {
        await using var node = await TestNode.StartAsync(o => o.RequirePass = "secret");
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("AUTH", "secret")).AssertOk();
        Assert.Equal(RespValue.SimpleString("PONG"), await client.SendAsync("PING"));
        Assert.Equal(RespValue.SimpleString("RESET"), await client.SendAsync("RESET"));
        (await client.SendAsync("PING")).AssertError("NOAUTH Authentication required.");
    }

    // ------------------------------------------------------------------ AUTH

    [Fact]
    public async Task Commands_need_auth_when_a_password_is_required()
    {
        await using var node = await TestNode.StartAsync(o => o.RequirePass = "secret");
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("PING")).AssertError("NOAUTH Authentication required.");
        (await client.SendAsync("GET", "k")).AssertError("NOAUTH Authentication required.");
        (await client.SendAsync("CLIENT", "ID")).AssertError("NOAUTH Authentication required.");

        (await client.SendAsync("AUTH", "wrong")).AssertError("WRONGPASS invalid username-password pair or user is disabled.");
        (await client.SendAsync("AUTH", "admin", "secret")).AssertError("WRONGPASS invalid username-password pair or user is disabled.");
        (await client.SendAsync("PING")).AssertError("NOAUTH Authentication required.");

        (await client.SendAsync("AUTH", "secret")).AssertOk();
        Assert.Equal(RespValue.SimpleString("PONG"), await client.SendAsync("PING"));

        await using var second = await node.ConnectAsync();
        (await second.SendAsync("AUTH", "default", "secret")).AssertOk();
        Assert.True((await second.SendAsync("GET", "nothing")).IsNull);
        // a failed AUTH does not undo an earlier success
        (await second.SendAsync("AUTH", "nope")).AssertErrorStartsWith("WRONGPASS");
        Assert.Equal(RespValue.SimpleString("PONG"), await second.SendAsync("PING"));
    }

    [Fact]
    public async Task Auth_without_a_configured_password()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("AUTH", "pw")).AssertError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        (await client.SendAsync("AUTH", "default", "anything")).AssertOk();
        (await client.SendAsync("AUTH", "bob", "anything")).AssertError("WRONGPASS invalid username-password pair or user is disabled.");
        (await client.SendAsync("AUTH", "a", "b", "c")).AssertError("ERR syntax error");
        (await client.SendAsync("AUTH")).AssertError("ERR wrong number of arguments for 'auth' command");
    }

    [Fact]
    public async Task Quit_and_hello_are_allowed_before_auth()
    {
        await using var node = await TestNode.StartAsync(o => o.RequirePass = "secret");
        await using (var client = await node.ConnectAsync())
        {
            (await client.SendAsync("HELLO", "3")).AssertError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            (await client.SendAsync("HELLO", "3", "AUTH", "default", "bad")).AssertError("WRONGPASS invalid username-password pair or user is disabled.");
            var hello = await client.SendAsync("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "app");
            Assert.Equal(RespType.Map, hello.Type);
            Assert.Equal(RespValue.BulkString("app"), await client.SendAsync("CLIENT", "GETNAME"));
        }
        await using (var client = await node.ConnectAsync())
        {
            (await client.SendAsync("QUIT")).AssertOk();
            Assert.True(await client.IsClosedByServerAsync());
        }
    }

    // ------------------------------------------------------------------ HELLO

    [Fact]
    public async Task Hello_3_switches_to_resp3_and_replies_with_a_map()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        long id = (await client.SendAsync("CLIENT", "ID")).Int();
        var hello = await client.SendAsync("HELLO", "3");
        Assert.Equal(RespType.Map, hello.Type);
        var fields = Pairs(hello);
        Assert.Equal(["server", "version", "proto", "id", "mode", "role", "modules"], fields.Keys);
        Assert.Equal("redis", fields["server"].Text());
        Assert.Equal("7.2.0", fields["version"].Text());
        Assert.Equal(3, fields["proto"].Int());
        Assert.Equal(id, fields["id"].Int());
        Assert.Equal("standalone", fields["mode"].Text());
        Assert.Equal("master", fields["role"].Text());
        Assert.Equal(RespValue.Array(), fields["modules"]);

        // RESP3 shapes from now on: nulls are "_", maps are maps
        Assert.Equal(RespType.Null, (await client.SendAsync("CLIENT", "GETNAME")).Type);
        Assert.Equal(RespType.Map, (await client.SendAsync("CONFIG", "GET", "maxmemory")).Type);
    }

    [Fact]
    public async Task Hello_2_and_hello_without_version_reply_with_a_flat_array()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        var hello = await client.SendAsync("HELLO");
        Assert.Equal(RespType.Array, hello.Type);
        Assert.Equal(14, hello.Items!.Count);
        Assert.Equal(2, Pairs(hello)["proto"].Int());

        await client.SendAsync("HELLO", "3");
        var back = await client.SendAsync("HELLO", "2");
        Assert.Equal(RespType.Array, back.Type);
        Assert.Equal(2, Pairs(back)["proto"].Int());
        // without a version HELLO keeps the current protocol
        await client.SendAsync("HELLO", "3");
        Assert.Equal(RespType.Map, (await client.SendAsync("HELLO")).Type);
    }

    [Fact]
    public async Task Hello_errors()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("HELLO", "4")).AssertError("NOPROTO unsupported protocol version");
        (await client.SendAsync("HELLO", "1")).AssertError("NOPROTO unsupported protocol version");
        (await client.SendAsync("HELLO", "x")).AssertError("ERR Protocol version is not an integer or out of range");
        (await client.SendAsync("HELLO", "3", "FOO")).AssertError("ERR Syntax error in HELLO option 'FOO'");
        (await client.SendAsync("HELLO", "3", "AUTH", "default")).AssertError("ERR Syntax error in HELLO option 'AUTH'");
        (await client.SendAsync("HELLO", "3", "SETNAME", "a b")).AssertError("ERR Client names cannot contain spaces, newlines or special characters.");
        (await client.SendAsync("HELLO", "3", "AUTH", "bob", "pw")).AssertError("WRONGPASS invalid username-password pair or user is disabled.");
        // none of the failures switched the protocol
        Assert.Equal(RespType.Array, (await client.SendAsync("HELLO")).Type);
        // the default user has no password without requirepass: any password authenticates it
        Assert.Equal(RespType.Array, (await client.SendAsync("HELLO", "2", "AUTH", "default", "any")).Type);
    }

    /// <summary>A map reply (RESP3 map or RESP2 flat array) as name → value, in reply order.</summary>
    internal static OrderedDictionary<string, RespValue> Pairs(RespValue reply)
    {
        Assert.True(reply.Type is RespType.Map or RespType.Array, $"Expected a map, got {reply}");
        var items = reply.Items!;
        Assert.True(items.Count % 2 == 0, $"Odd number of map items: {reply}");
        var result = new OrderedDictionary<string, RespValue>();
        for (int i = 0; i < items.Count; i += 2) result.Add(items[i].Text(), items[i + 1]);
        return result;
    }
}
