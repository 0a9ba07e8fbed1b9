using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

public sealed class KeyCommandTests : ConnectedNodeTest
{
    [Fact]
    public async Task Del_Unlink_Exists_Touch_Type_count_keys()
    {
        (await Send("MSET", "a", "1", "b", "2", "c", "3")).AssertOk();
        Assert.Equal(3, (await Send("EXISTS", "a", "a", "b", "zz")).Int());
        Assert.Equal(2, (await Send("TOUCH", "a", "b", "zz")).Int());
        Assert.Equal("string", (await Send("TYPE", "a")).Text());
        Assert.Equal("none", (await Send("TYPE", "zz")).Text());
        Assert.Equal(2, (await Send("DEL", "a", "b", "zz")).Int());
        Assert.Equal(1, (await Send("UNLINK", "c", "c")).Int());
        Assert.Equal(0, (await Send("EXISTS", "a", "b", "c")).Int());
    }

    [Fact]
    public async Task Expire_family_with_conditions()
    {
        (await Send("SET", "k", "v")).AssertOk();
        Assert.Equal(0, (await Send("EXPIRE", "missing", "10")).Int());
        Assert.Equal(0, (await Send("EXPIRE", "k", "10", "XX")).Int());
        Assert.Equal(0, (await Send("EXPIRE", "k", "10", "GT")).Int()); // persistent = infinite TTL
        Assert.Equal(1, (await Send("EXPIRE", "k", "10", "NX")).Int());
        Assert.Equal(0, (await Send("EXPIRE", "k", "20", "NX")).Int());
        Assert.Equal(1, (await Send("EXPIRE", "k", "20", "GT")).Int());
        Assert.Equal(0, (await Send("EXPIRE", "k", "15", "GT")).Int());
        Assert.Equal(1, (await Send("PEXPIRE", "k", "15000", "LT")).Int());
        Assert.Equal(15, (await Send("TTL", "k")).Int());
        Assert.Equal(1, (await Send("EXPIREAT", "k", (Clock.NowMs / 1000 + 100).ToString())).Int());
        Assert.Equal((Clock.NowMs / 1000 + 100), (await Send("EXPIRETIME", "k")).Int());
        Assert.Equal(1, (await Send("PEXPIREAT", "k", (Clock.NowMs + 1234).ToString())).Int());
        Assert.Equal(Clock.NowMs + 1234, (await Send("PEXPIRETIME", "k")).Int());
        Assert.Equal(1, (await Send("PERSIST", "k")).Int());
        Assert.Equal(0, (await Send("PERSIST", "k")).Int());
        Assert.Equal(-1, (await Send("PEXPIRETIME", "k")).Int());
        Assert.Equal(-2, (await Send("PEXPIRETIME", "missing")).Int());
        Assert.Equal(1, (await Send("PEXPIRE", "k", "10", "LT")).Int());

        (await Send("EXPIRE", "k", "10", "NX", "XX")).AssertError("ERR NX and XX, GT or LT options at the same time are not compatible");
        (await Send("EXPIRE", "k", "10", "GT", "LT")).AssertError("ERR GT and LT options at the same time are not compatible");
        (await Send("EXPIRE", "k", "10", "FOO")).AssertError("ERR Unsupported option FOO");
        (await Send("EXPIRE", "k", "ten")).AssertError("ERR value is not an integer or out of range");
        (await Send("EXPIRE", "k", "9223372036854775807")).AssertError("ERR invalid expire time in 'expire' command");
    }

    [Fact]
    public async Task Expire_in_the_past_deletes_the_key()
    {
        (await Send("SET", "k", "v")).AssertOk();
        Assert.Equal(1, (await Send("EXPIRE", "k", "-1")).Int());
        Assert.Equal(0, (await Send("EXISTS", "k")).Int());
    }

    [Fact]
    public async Task Active_expiry_removes_keys_nobody_reads()
    {
        for (int i = 0; i < 200; i++) (await Send("SET", $"t{i}", "v", "PX", (100 + i).ToString())).AssertOk();
        (await Send("SET", "keep", "v")).AssertOk();
        var engine = Node.Engine;
        Assert.Equal(201, engine.KeyCount);
        Clock.Advance(TimeSpan.FromSeconds(2)); // fires the maintenance ticks, which post to the shards' mailboxes
        await Poll.UntilAsync(() => engine.KeyCount == 1, "the timer wheels to expire 200 keys");
        Assert.Equal(1, (await Send("EXISTS", "keep")).Int());
    }

    [Fact]
    public async Task Config_set_hz_reschedules_active_expiry()
    {
        (await Send("SET", "short", "v", "PX", "5")).AssertOk();
        (await Send("CONFIG", "SET", "hz", "50")).AssertOk();
        Assert.Equal("50", (await Send("CONFIG", "GET", "hz")).Items![1].Text());
        Clock.Advance(TimeSpan.FromMilliseconds(30)); // one tick at 20 ms; the old 100 ms period would not have fired yet
        await Poll.UntilAsync(() => Node.Engine.KeyCount == 0, "the 20 ms tick to expire the key");
        Assert.Equal(1, Node.Engine.Shards.Sum(s => s.Table.ExpiredCount));
    }

    [Fact]
    public async Task Rename_and_RenameNx_keep_value_and_ttl()
    {
        (await Send("SET", "src", "value", "EX", "50")).AssertOk();
        (await Send("RENAME", "src", "dst")).AssertOk();
        Assert.Equal("value", (await Send("GET", "dst")).Text());
        Assert.Equal(50, (await Send("TTL", "dst")).Int());
        Assert.Equal(0, (await Send("EXISTS", "src")).Int());
        (await Send("RENAME", "src", "dst")).AssertError("ERR no such key");
        (await Send("SET", "other", "o")).AssertOk();
        Assert.Equal(0, (await Send("RENAMENX", "dst", "other")).Int());
        Assert.Equal(1, (await Send("RENAMENX", "dst", "fresh")).Int());
        Assert.Equal("value", (await Send("GET", "fresh")).Text());
        (await Send("RENAME", "fresh", "fresh")).AssertOk();
        Assert.Equal("value", (await Send("GET", "fresh")).Text());
    }

    [Fact]
    public async Task Scan_visits_every_key_once_across_shards_and_honours_match()
    {
        var expected = new HashSet<string>();
        for (int i = 0; i < 500; i++)
        {
            expected.Add($"key:{i}");
            (await Send("SET", $"key:{i}", "v")).AssertOk();
        }
        (await Send("SET", "other", "v")).AssertOk();
        var seen = new List<string>();
        string cursor = "0";
        int rounds = 0;
        do
        {
            var reply = await Send("SCAN", cursor, "MATCH", "key:*", "COUNT", "37");
            cursor = reply.Items![0].Text();
            seen.AddRange(reply.Items[1].Items!.Select(i => i.Text()));
            Assert.True(++rounds < 1000);
        } while (cursor != "0");
        Assert.Equal(expected.Count, seen.Count);
        Assert.True(expected.SetEquals(seen));
        Assert.Empty((await Send("SCAN", "0", "TYPE", "hash", "COUNT", "1000")).Items![1].Items!);
        (await Send("SCAN", "abc")).AssertError("ERR invalid cursor");
        (await Send("SCAN", "0", "COUNT", "0")).AssertError("ERR syntax error");
        (await Send("SCAN", "0", "MATCH")).AssertError("ERR syntax error");
    }

    [Fact]
    public async Task Keys_and_RandomKey()
    {
        Assert.True((await Send("RANDOMKEY")).IsNull);
        (await Send("MSET", "user:1", "a", "user:2", "b", "order:1", "c")).AssertOk();
        var keys = (await Send("KEYS", "user:*")).Items!.Select(i => i.Text()).Order().ToArray();
        Assert.Equal(["user:1", "user:2"], keys);
        Assert.Equal(3, (await Send("KEYS", "*")).Items!.Count);
        Assert.Equal(["order:1"], (await Send("KEYS", "o?der:[0-9]")).Items!.Select(i => i.Text()));
        Assert.Contains((await Send("RANDOMKEY")).Text(), new[] { "user:1", "user:2", "order:1" });
    }

    [Fact]
    public async Task Expired_keys_are_never_listed()
    {
        (await Send("SET", "short", "v", "PX", "10")).AssertOk();
        (await Send("SET", "long", "v")).AssertOk();
        Clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(["long"], (await Send("KEYS", "*")).Items!.Select(i => i.Text()));
        Assert.Equal(["long"], (await Send("SCAN", "0", "COUNT", "100")).Items![1].Items!.Select(i => i.Text()));
        Assert.Equal(0, (await Send("EXISTS", "short")).Int());
    }
}
