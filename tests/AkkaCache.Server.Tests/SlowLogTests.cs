using System.Text;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>SLOWLOG GET / LEN / RESET / HELP and its two settings. slowlog-log-slower-than 0 logs every command, so no test depends on a command being slow.</summary>
public sealed class SlowLogTests : ConnectedNodeTest
{
    private static string Arg(RespValue entry, int index) => Encoding.UTF8.GetString(entry.Items![3].Items![index].Bytes!);

    private async Task LogEverything()
    {
        (await Send("CONFIG", "SET", "slowlog-log-slower-than", "0")).AssertOk();
        (await Send("SLOWLOG", "RESET")).AssertOk();
    }

    [Fact]
    public async Task Settings_have_redis_defaults_and_are_settable()
    {
        var reply = await Send("CONFIG", "GET", "slowlog-*");
        Assert.Equal(["slowlog-log-slower-than", "10000", "slowlog-max-len", "128"], reply.Items!.Select(i => i.Text()));
        (await Send("CONFIG", "SET", "slowlog-log-slower-than", "-2")).AssertErrorStartsWith("ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be between -1");
        (await Send("CONFIG", "SET", "slowlog-max-len", "-1")).AssertErrorStartsWith("ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len')");
        (await Send("CONFIG", "SET", "slowlog-max-len", "5")).AssertOk();
        Assert.Equal("5", (await Send("CONFIG", "GET", "slowlog-max-len")).Items![1].Text());
    }

    [Fact]
    public async Task Get_replies_id_time_duration_arguments_address_and_name_newest_first()
    {
        (await Send("CLIENT", "SETNAME", "worker-7")).AssertOk();
        await LogEverything();
        (await Send("SET", "k", "v")).AssertOk();
        Assert.Equal("v", (await Send("GET", "k")).Text());
        string address = (await Send("CLIENT", "INFO")).Text().Split(' ').Single(f => f.StartsWith("addr=", StringComparison.Ordinal))[5..];

        var entries = (await Send("SLOWLOG", "GET")).Items!;
        // RESET, SET, GET, CLIENT INFO: each is logged after it ran
        Assert.Equal(4, entries.Count);
        var get = entries[1];
        Assert.Equal(6, get.Items!.Count);
        Assert.Equal(entries[2].Items![0].Int() + 1, get.Items[0].Int());
        Assert.Equal(Clock.GetUtcNow().ToUnixTimeSeconds(), get.Items[1].Int());
        Assert.True(get.Items[2].Int() >= 0);
        Assert.Equal(["GET", "k"], get.Items[3].Items!.Select(a => a.Text()));
        Assert.Equal(address, get.Items[4].Text());
        Assert.Equal("worker-7", get.Items[5].Text());
        Assert.Equal(["SET", "k", "v"], entries[2].Items![3].Items!.Select(a => a.Text()));
        Assert.Equal(["CLIENT", "INFO"], entries[0].Items![3].Items!.Select(a => a.Text()));
    }

    [Fact]
    public async Task Long_commands_are_cut_as_redis_does()
    {
        await LogEverything();
        var args = new List<string> { "MSET" };
        for (int i = 0; i < 20; i++) args.AddRange([$"key{i}", $"value{i}"]);   // 41 arguments
        (await Send([.. args])).AssertOk();
        string big = new('x', 200);
        (await Send("SET", "big", big)).AssertOk();

        var entries = (await Send("SLOWLOG", "GET", "2")).Items!;
        var mset = entries[1];
        Assert.Equal(32, mset.Items![3].Items!.Count);
        Assert.Equal("value14", Arg(mset, 30));
        Assert.Equal("... (10 more arguments)", Arg(mset, 31));
        Assert.Equal(new string('x', 128) + "... (72 more bytes)", Arg(entries[0], 2));
    }

    [Fact]
    public async Task Passwords_are_redacted()
    {
        await LogEverything();
        await Send("AUTH", "secret");
        await Send("HELLO", "2", "AUTH", "default", "secret2", "SETNAME", "n");
        var entries = (await Send("SLOWLOG", "GET")).Items!;
        Assert.Equal(["HELLO", "2", "AUTH", "(redacted)", "(redacted)", "SETNAME", "n"], entries[0].Items![3].Items!.Select(a => a.Text()));
        Assert.Equal(["AUTH", "(redacted)"], entries[1].Items![3].Items!.Select(a => a.Text()));
    }

    [Fact]
    public async Task Len_count_reset_and_max_len()
    {
        await LogEverything();
        for (int i = 0; i < 5; i++) await Send("PING");
        Assert.Equal(6, (await Send("SLOWLOG", "LEN")).Int()); // RESET and 5 PINGs
        Assert.Equal(7, (await Send("SLOWLOG", "GET", "-1")).Items!.Count); // and LEN
        Assert.Equal(2, (await Send("SLOWLOG", "GET", "2")).Items!.Count);
        Assert.Empty((await Send("SLOWLOG", "GET", "0")).Items!);
        (await Send("CONFIG", "SET", "slowlog-max-len", "3")).AssertOk();
        Assert.Equal(3, (await Send("SLOWLOG", "LEN")).Int());
        (await Send("SLOWLOG", "RESET")).AssertOk();
        Assert.Equal(1, (await Send("SLOWLOG", "LEN")).Int()); // RESET itself
        (await Send("CONFIG", "SET", "slowlog-log-slower-than", "-1")).AssertOk();
        (await Send("SLOWLOG", "RESET")).AssertOk();
        await Send("PING");
        Assert.Equal(0, (await Send("SLOWLOG", "LEN")).Int());
    }

    [Fact]
    public async Task Bad_arguments_get_redis_errors()
    {
        (await Send("SLOWLOG", "GET", "-2")).AssertError("ERR count should be greater than or equal to -1");
        (await Send("SLOWLOG", "GET", "ten")).AssertError("ERR value is not an integer or out of range");
        (await Send("SLOWLOG", "GET", "1", "2")).AssertError("ERR wrong number of arguments for 'slowlog|get' command");
        (await Send("SLOWLOG", "LEN", "x")).AssertError("ERR wrong number of arguments for 'slowlog|len' command");
        (await Send("SLOWLOG", "NOPE")).AssertError("ERR unknown subcommand 'NOPE'. Try SLOWLOG HELP.");
        (await Send("SLOWLOG")).AssertError("ERR wrong number of arguments for 'slowlog' command");
    }

    [Fact]
    public async Task Help_is_redis_text()
    {
        var lines = (await Send("SLOWLOG", "HELP")).Items!.Select(i => i.Text()).ToList();
        Assert.Equal("SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", lines[0]);
        Assert.Contains("    Return top <count> entries from the slowlog (default: 10, -1 mean all).", lines);
        Assert.Equal("    Print this help.", lines[^1]);
    }

    [Fact]
    public async Task Redis_cli_reads_the_log()
    {
        await LogEverything();
        await Send("SET", "from-test", "1");
        var (exit, output) = await RedisCli.RunAsync(Node.Port, "SLOWLOG", "GET", "1");
        Assert.Equal(0, exit);
        Assert.Contains("from-test", output);
    }
}
