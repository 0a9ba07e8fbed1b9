using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>String commands against a real node over a real socket, on a clock the tests drive.</summary>
public sealed class StringCommandTests : ConnectedNodeTest
{
    [Fact]
    public async Task Set_and_get_round_trip_binary_values()
    {
        var value = new byte[] { 0, 13, 10, 255, (byte)'$', (byte)'*' };
        (await Client.SendBytesAsync("SET"u8.ToArray(), "bin"u8.ToArray(), value)).AssertOk();
        var reply = await Client.SendBytesAsync("GET"u8.ToArray(), "bin"u8.ToArray());
        Assert.Equal(value, reply.Bytes);
        Assert.True((await Send("GET", "missing")).IsNull);
    }

    [Fact]
    public async Task Set_conditions_nx_xx_and_get()
    {
        Assert.True((await Send("SET", "k", "1", "XX")).IsNull);
        (await Send("SET", "k", "1", "NX")).AssertOk();
        Assert.True((await Send("SET", "k", "2", "NX")).IsNull);
        (await Send("SET", "k", "3", "XX")).AssertOk();
        Assert.Equal("3", (await Send("SET", "k", "4", "GET")).Text());
        Assert.True((await Send("SET", "fresh", "1", "GET")).IsNull);
        Assert.Equal("4", (await Send("SET", "k", "5", "NX", "GET")).Text());
        Assert.Equal("4", (await Send("GET", "k")).Text());
        (await Send("SET", "k", "1", "NX", "XX")).AssertError("ERR syntax error");
        (await Send("SET", "k", "1", "EX", "10", "PX", "100")).AssertError("ERR syntax error");
        (await Send("SET", "k", "1", "EX", "10", "KEEPTTL")).AssertError("ERR syntax error");
        (await Send("SET", "k", "1", "BOGUS")).AssertError("ERR syntax error");
        (await Send("SET", "k", "1", "EX")).AssertError("ERR syntax error");
    }

    [Fact]
    public async Task Set_expiry_options_and_lazy_expiry_on_the_driven_clock()
    {
        (await Send("SET", "ex", "v", "EX", "10")).AssertOk();
        (await Send("SET", "px", "v", "PX", "1500")).AssertOk();
        (await Send("SET", "exat", "v", "EXAT", (Clock.NowMs / 1000 + 20).ToString())).AssertOk();
        (await Send("SET", "pxat", "v", "PXAT", (Clock.NowMs + 2500).ToString())).AssertOk();
        Assert.Equal(10, (await Send("TTL", "ex")).Int());
        Assert.Equal(1500, (await Send("PTTL", "px")).Int());
        Assert.Equal(2500, (await Send("PTTL", "pxat")).Int());
        Assert.Equal((Clock.NowMs + 2500) / 1000, (await Send("EXPIRETIME", "pxat")).Int());

        Clock.Advance(TimeSpan.FromMilliseconds(1499));
        Assert.Equal("v", (await Send("GET", "px")).Text());
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True((await Send("GET", "px")).IsNull);
        Assert.Equal(-2, (await Send("TTL", "px")).Int());

        (await Send("SET", "ex", "w", "KEEPTTL")).AssertOk();
        Assert.InRange((await Send("PTTL", "ex")).Int(), 8000, 8500);
        (await Send("SET", "ex", "w")).AssertOk();
        Assert.Equal(-1, (await Send("TTL", "ex")).Int());

        (await Send("SET", "k", "v", "EX", "0")).AssertError("ERR invalid expire time in 'set' command");
        (await Send("SET", "k", "v", "PX", "-5")).AssertError("ERR invalid expire time in 'set' command");
        (await Send("SET", "k", "v", "EX", "9223372036854775807")).AssertError("ERR invalid expire time in 'set' command");
        (await Send("SET", "k", "v", "EX", "ten")).AssertError("ERR value is not an integer or out of range");
        (await Send("SET", "past", "v", "PXAT", "1")).AssertOk();
        Assert.Equal(0, (await Send("EXISTS", "past")).Int());
    }

    [Fact]
    public async Task SetNx_SetEx_PSetEx_GetSet_GetDel()
    {
        Assert.Equal(1, (await Send("SETNX", "a", "1")).Int());
        Assert.Equal(0, (await Send("SETNX", "a", "2")).Int());
        (await Send("SETEX", "b", "5", "x")).AssertOk();
        Assert.Equal(5, (await Send("TTL", "b")).Int());
        (await Send("SETEX", "b", "0", "x")).AssertError("ERR invalid expire time in 'setex' command");
        (await Send("PSETEX", "c", "700", "y")).AssertOk();
        Assert.Equal(700, (await Send("PTTL", "c")).Int());
        (await Send("PSETEX", "c", "-1", "y")).AssertError("ERR invalid expire time in 'psetex' command");
        Assert.Equal("1", (await Send("GETSET", "a", "9")).Text());
        Assert.True((await Send("GETSET", "new", "9")).IsNull);
        Assert.Equal("9", (await Send("GETDEL", "a")).Text());
        Assert.True((await Send("GETDEL", "a")).IsNull);
        Assert.Equal(0, (await Send("EXISTS", "a")).Int());
    }

    [Fact]
    public async Task GetEx_changes_or_removes_the_expiry()
    {
        (await Send("SET", "k", "v")).AssertOk();
        Assert.Equal("v", (await Send("GETEX", "k", "EX", "100")).Text());
        Assert.Equal(100, (await Send("TTL", "k")).Int());
        Assert.Equal("v", (await Send("GETEX", "k", "PERSIST")).Text());
        Assert.Equal(-1, (await Send("TTL", "k")).Int());
        Assert.Equal("v", (await Send("GETEX", "k", "PXAT", (Clock.NowMs + 50).ToString())).Text());
        Assert.Equal(50, (await Send("PTTL", "k")).Int());
        Assert.Equal("v", (await Send("GETEX", "k")).Text());
        (await Send("GETEX", "k", "EX", "1", "PERSIST")).AssertError("ERR syntax error");
        (await Send("GETEX", "k", "EX", "-1")).AssertError("ERR invalid expire time in 'getex' command");
        Assert.True((await Send("GETEX", "nope", "EX", "5")).IsNull);
    }

    [Fact]
    public async Task MGet_MSet_MSetNx_across_shards()
    {
        (await Send("MSET", "a", "1", "b", "2", "c", "3", "{a}x", "4")).AssertOk();
        var reply = await Send("MGET", "a", "missing", "b", "c", "{a}x");
        Assert.Equal(["1", null, "2", "3", "4"], reply.Items!.Select(i => i.AsString()));
        (await Send("MSET", "a", "1", "b")).AssertError("ERR wrong number of arguments for 'mset' command");
        Assert.Equal(0, (await Send("MSETNX", "z1", "1", "a", "2")).Int());
        Assert.Equal(0, (await Send("EXISTS", "z1")).Int());
        Assert.Equal(1, (await Send("MSETNX", "z1", "1", "z2", "2")).Int());
        Assert.Equal("2", (await Send("GET", "z2")).Text());
    }

    [Fact]
    public async Task Incr_family_with_overflow_and_type_errors()
    {
        Assert.Equal(1, (await Send("INCR", "n")).Int());
        Assert.Equal(11, (await Send("INCRBY", "n", "10")).Int());
        Assert.Equal(10, (await Send("DECR", "n")).Int());
        Assert.Equal(-5, (await Send("DECRBY", "n", "15")).Int());
        Assert.Equal("-5", (await Send("GET", "n")).Text());
        (await Send("SET", "max", long.MaxValue.ToString())).AssertOk();
        (await Send("INCR", "max")).AssertError("ERR increment or decrement would overflow");
        (await Send("SET", "min", long.MinValue.ToString())).AssertOk();
        (await Send("DECR", "min")).AssertError("ERR increment or decrement would overflow");
        (await Send("DECRBY", "n", long.MinValue.ToString())).AssertError("ERR decrement would overflow");
        (await Send("SET", "s", "abc")).AssertOk();
        (await Send("INCR", "s")).AssertError("ERR value is not an integer or out of range");
        (await Send("SET", "s", " 1")).AssertOk();
        (await Send("INCR", "s")).AssertError("ERR value is not an integer or out of range");
        (await Send("INCRBY", "n", "1.5")).AssertError("ERR value is not an integer or out of range");
        (await Send("INCRBY", "n", "99999999999999999999")).AssertError("ERR value is not an integer or out of range");
        Assert.Equal("9223372036854775807", (await Send("GET", "max")).Text());
    }

    [Fact]
    public async Task Incr_keeps_the_expiry()
    {
        (await Send("SET", "n", "1", "EX", "100")).AssertOk();
        Assert.Equal(2, (await Send("INCR", "n")).Int());
        Assert.Equal(100, (await Send("TTL", "n")).Int());
    }

    [Fact]
    public async Task IncrByFloat_formats_like_redis()
    {
        (await Send("SET", "f", "10.5")).AssertOk();
        Assert.Equal("10.6", (await Send("INCRBYFLOAT", "f", "0.1")).Text());
        Assert.Equal("5.6", (await Send("INCRBYFLOAT", "f", "-5")).Text());
        (await Send("SET", "p", "0.1")).AssertOk();
        Assert.Equal("0.3", (await Send("INCRBYFLOAT", "p", "0.2")).Text());
        (await Send("SET", "g", "5.0e3")).AssertOk();
        Assert.Equal("5200", (await Send("INCRBYFLOAT", "g", "2.0e2")).Text());
        Assert.Equal("3", (await Send("INCRBYFLOAT", "new", "3")).Text());
        (await Send("INCRBYFLOAT", "f", "abc")).AssertError("ERR value is not a valid float");
        (await Send("SET", "s", "x")).AssertOk();
        (await Send("INCRBYFLOAT", "s", "1")).AssertError("ERR value is not a valid float");
        (await Send("SET", "big", "1e308")).AssertOk();
        (await Send("INCRBYFLOAT", "big", "1e308")).AssertError("ERR increment would produce NaN or Infinity");
    }

    [Fact]
    public async Task Append_StrLen_GetRange_SetRange()
    {
        Assert.Equal(5, (await Send("APPEND", "s", "Hello")).Int());
        Assert.Equal(11, (await Send("APPEND", "s", " World")).Int());
        Assert.Equal(11, (await Send("STRLEN", "s")).Int());
        Assert.Equal(0, (await Send("STRLEN", "none")).Int());
        Assert.Equal("Hello", (await Send("GETRANGE", "s", "0", "4")).Text());
        Assert.Equal("World", (await Send("GETRANGE", "s", "-5", "-1")).Text());
        Assert.Equal("Hello World", (await Send("GETRANGE", "s", "0", "100")).Text());
        Assert.Equal("", (await Send("GETRANGE", "s", "5", "2")).Text());
        Assert.Equal("", (await Send("GETRANGE", "s", "-1", "-5")).Text());
        Assert.Equal("", (await Send("GETRANGE", "none", "0", "-1")).Text());
        Assert.Equal(11, (await Send("SETRANGE", "s", "6", "Redis")).Int());
        Assert.Equal("Hello Redis", (await Send("GET", "s")).Text());
        Assert.Equal(8, (await Send("SETRANGE", "pad", "5", "abc")).Int());
        Assert.Equal("\0\0\0\0\0abc", (await Send("GET", "pad")).Text());
        Assert.Equal(0, (await Send("SETRANGE", "empty", "3", "")).Int());
        Assert.Equal(0, (await Send("EXISTS", "empty")).Int());
        (await Send("SETRANGE", "s", "-1", "x")).AssertError("ERR offset is out of range");
        (await Send("SETRANGE", "s", "1048576", "x")).AssertError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }

    [Fact]
    public async Task Append_refuses_to_grow_past_the_bulk_limit_and_keeps_the_value()
    {
        var half = new string('x', 600 * 1024);
        Assert.Equal(half.Length, (await Send("APPEND", "big", half)).Int());
        (await Send("APPEND", "big", half)).AssertError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        Assert.Equal(half.Length, (await Send("STRLEN", "big")).Int());
    }

    [Fact]
    public async Task Gets_and_Cas_are_compare_and_swap()
    {
        Assert.True((await Send("AC.GETS", "k")).IsNull);
        Assert.Equal(1, (await Send("AC.CAS", "k", "0", "first")).Int());
        var gets = await Send("AC.GETS", "k");
        Assert.Equal("first", gets.Items![0].Text());
        long version = gets.Items[1].Int();
        Assert.Equal(0, (await Send("AC.CAS", "k", "0", "again")).Int());
        Assert.Equal(1, (await Send("AC.CAS", "k", version.ToString(), "second", "EX", "30")).Int());
        Assert.Equal(0, (await Send("AC.CAS", "k", version.ToString(), "stale")).Int());
        Assert.Equal("second", (await Send("GET", "k")).Text());
        Assert.Equal(30, (await Send("TTL", "k")).Int());
        long version2 = (await Send("AC.GETS", "k")).Items![1].Int();
        Assert.NotEqual(version, version2);
        (await Send("INCR", "counter")).Int();
        (await Send("AC.CAS", "k", "x", "v")).AssertError("ERR value is not an integer or out of range");
        (await Send("AC.CAS", "k", "1", "v", "EX")).AssertError("ERR syntax error");
    }

    [Fact]
    public async Task Every_write_changes_the_version()
    {
        (await Send("SET", "k", "1")).AssertOk();
        var versions = new List<long> { (await Send("AC.GETS", "k")).Items![1].Int() };
        foreach (var command in new[] { new[] { "SET", "k", "1" }, ["INCR", "k"], ["APPEND", "k", "0"], ["EXPIRE", "k", "100"], ["SETRANGE", "k", "0", "9"] })
        {
            await Send(command);
            versions.Add((await Send("AC.GETS", "k")).Items![1].Int());
        }
        Assert.Equal(versions.Count, versions.Distinct().Count());
    }

    [Fact]
    public async Task Wrong_arity_is_reported_with_the_command_name()
    {
        (await Send("GET")).AssertError("ERR wrong number of arguments for 'get' command");
        (await Send("set", "a")).AssertError("ERR wrong number of arguments for 'set' command");
        (await Send("INCRBY", "a", "1", "2")).AssertError("ERR wrong number of arguments for 'incrby' command");
        (await Send("MGET")).AssertError("ERR wrong number of arguments for 'mget' command");
    }
}
