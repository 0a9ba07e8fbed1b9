using System.Buffers;
using static AkkaCache.Protocol.Tests.TestUtil;

namespace AkkaCache.Protocol.Tests;

public class ReplyParserTests
{
    private static RespValue ParseOne(string reply)
    {
        byte[] bytes = B(reply);
        Assert.Equal(RespParseStatus.Complete, RespReplyParser.TryParse(bytes, out RespValue? value, out int consumed, out string? error));
        Assert.Null(error);
        Assert.Equal(bytes.Length, consumed);
        return value!;
    }

    private static string ParseError(string reply)
    {
        Assert.Equal(RespParseStatus.Error, RespReplyParser.TryParse(B(reply), out RespValue? value, out int consumed, out string? error));
        Assert.Null(value);
        Assert.Equal(0, consumed);
        return error!;
    }

    private static List<RespValue> ParseAll(ReadOnlySpan<byte> bytes)
    {
        var values = new List<RespValue>();
        while (!bytes.IsEmpty)
        {
            Assert.Equal(RespParseStatus.Complete, RespReplyParser.TryParse(bytes, out RespValue? value, out int consumed, out string? error));
            Assert.Null(error);
            values.Add(value!);
            bytes = bytes[consumed..];
        }

        return values;
    }

    // Writes one of everything.
    private static void WriteAllTypes(RespWriter w)
    {
        w.WriteOk();
        w.WriteSimpleString("PONG");
        w.WriteError("ERR boom");
        w.WriteInteger(-42);
        w.WriteBulkString(B("bin\r\n\0\xff"));
        w.WriteBulkString(123L);
        w.WriteNull();
        w.WriteNullArray();
        w.WriteArrayHeader(2);
        w.WriteBulkString("x");
        w.WriteInteger(1);
        w.WriteMapHeader(1);
        w.WriteBulkString("k");
        w.WriteBulkString("v");
        w.WriteSetHeader(2);
        w.WriteBulkString("m1");
        w.WriteBulkString("m2");
        w.WritePushHeader(2);
        w.WriteBulkString("message");
        w.WriteBulkString("hi");
        w.WriteDouble(10.5);
        w.WriteDouble(double.NegativeInfinity);
        w.WriteBoolean(true);
        w.WriteBoolean(false);
        w.WriteVerbatimString("txt", "Some string");
        w.WriteBigNumber("3492890328409238509324850943850943825024385");
        w.WriteArrayHeader(0);
    }

    [Fact]
    public void RoundTripsEveryTypeInResp3()
    {
        var output = new ArrayBufferWriter<byte>();
        WriteAllTypes(new RespWriter(output, RespVersion.Resp3));
        List<RespValue> values = ParseAll(output.WrittenSpan);
        RespValue[] expected =
        [
            RespValue.SimpleString("OK"),
            RespValue.SimpleString("PONG"),
            RespValue.Error("ERR boom"),
            RespValue.FromInteger(-42),
            RespValue.BulkString(B("bin\r\n\0\xff")),
            RespValue.BulkString("123"),
            RespValue.Null,
            RespValue.Null,
            RespValue.Array(RespValue.BulkString("x"), RespValue.FromInteger(1)),
            RespValue.Map(RespValue.BulkString("k"), RespValue.BulkString("v")),
            RespValue.Set(RespValue.BulkString("m1"), RespValue.BulkString("m2")),
            RespValue.Push(RespValue.BulkString("message"), RespValue.BulkString("hi")),
            RespValue.FromDouble(10.5),
            RespValue.FromDouble(double.NegativeInfinity),
            RespValue.FromBoolean(true),
            RespValue.FromBoolean(false),
            RespValue.Verbatim("txt", "Some string"),
            RespValue.BigNumber("3492890328409238509324850943850943825024385"),
            RespValue.Array(),
        ];
        Assert.Equal(expected, values);
    }

    [Fact]
    public void RoundTripsEveryTypeInResp2Shapes()
    {
        var output = new ArrayBufferWriter<byte>();
        WriteAllTypes(new RespWriter(output, RespVersion.Resp2));
        List<RespValue> values = ParseAll(output.WrittenSpan);
        RespValue[] expected =
        [
            RespValue.SimpleString("OK"),
            RespValue.SimpleString("PONG"),
            RespValue.Error("ERR boom"),
            RespValue.FromInteger(-42),
            RespValue.BulkString(B("bin\r\n\0\xff")),
            RespValue.BulkString("123"),
            RespValue.Null,
            RespValue.Null,
            RespValue.Array(RespValue.BulkString("x"), RespValue.FromInteger(1)),
            RespValue.Array(RespValue.BulkString("k"), RespValue.BulkString("v")),
            RespValue.Array(RespValue.BulkString("m1"), RespValue.BulkString("m2")),
            RespValue.Array(RespValue.BulkString("message"), RespValue.BulkString("hi")),
            RespValue.BulkString("10.5"),
            RespValue.BulkString("-inf"),
            RespValue.FromInteger(1),
            RespValue.FromInteger(0),
            RespValue.BulkString("Some string"),
            RespValue.BulkString("3492890328409238509324850943850943825024385"),
            RespValue.Array(),
        ];
        Assert.Equal(expected, values);
    }

    [Fact]
    public void EveryPrefixIsIncomplete()
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new RespWriter(output, RespVersion.Resp3);
        w.WriteArrayHeader(3);
        w.WriteMapHeader(1);
        w.WriteBulkString("key\r\n");
        w.WriteDouble(1.5);
        w.WriteVerbatimString("txt", "abc");
        w.WriteSetHeader(1);
        w.WriteBoolean(true);
        byte[] bytes = output.WrittenSpan.ToArray();
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            Assert.Equal(RespParseStatus.Incomplete, RespReplyParser.TryParse(bytes.AsSpan(0, cut), out RespValue? value, out int consumed, out string? error));
            Assert.Null(value);
            Assert.Null(error);
            Assert.Equal(0, consumed);
        }

        Assert.Equal(RespParseStatus.Complete, RespReplyParser.TryParse(bytes, out RespValue? whole, out int all, out _));
        Assert.Equal(bytes.Length, all);
        Assert.Equal(RespType.Array, whole!.Type);
        Assert.Equal(3, whole.Items!.Count);
    }

    [Fact]
    public void SpecExamples()
    {
        Assert.Equal(RespValue.Null, ParseOne("$-1\r\n"));
        Assert.Equal(RespValue.Null, ParseOne("*-1\r\n"));
        Assert.Equal(RespValue.Null, ParseOne("_\r\n"));
        Assert.Equal(RespValue.FromInteger(1000), ParseOne(":1000\r\n"));
        Assert.Equal(RespValue.FromDouble(1.23), ParseOne(",1.23\r\n"));
        Assert.Equal(RespValue.FromDouble(10), ParseOne(",10\r\n"));
        Assert.Equal(RespValue.FromDouble(double.PositiveInfinity), ParseOne(",inf\r\n"));
        Assert.Equal(RespValue.FromDouble(1.5e10), ParseOne(",1.5e10\r\n"));
        Assert.True(double.IsNaN(ParseOne(",nan\r\n").Double));
        Assert.Equal(RespValue.Error("SYNTAX invalid syntax"), ParseOne("!21\r\nSYNTAX invalid syntax\r\n"));
        Assert.Equal(RespValue.BigNumber("-3492890328409238509324850943850943825024385"), ParseOne("(-3492890328409238509324850943850943825024385\r\n"));
        Assert.Equal(RespValue.BulkString(""), ParseOne("$0\r\n\r\n"));
        Assert.Equal(
            RespValue.Map(RespValue.SimpleString("first"), RespValue.FromInteger(1), RespValue.SimpleString("second"), RespValue.FromInteger(2)),
            ParseOne("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n"));
    }

    [Fact]
    public void AttributesAreSkipped()
    {
        // Top level: the attribute annotates the reply that follows it.
        Assert.Equal(
            RespValue.Array(RespValue.FromInteger(2039123), RespValue.FromInteger(9543892)),
            ParseOne("|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n"));

        // Inside an aggregate.
        Assert.Equal(
            RespValue.Array(RespValue.FromInteger(1), RespValue.FromInteger(2)),
            ParseOne("*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n"));

        // An attribute alone is incomplete: its value has not arrived.
        Assert.Equal(RespParseStatus.Incomplete, RespReplyParser.TryParse(B("|1\r\n+a\r\n+b\r\n"), out _, out _, out _));
    }

    [Theory]
    [InlineData("x\r\n", "Protocol error: unexpected type byte 'x'")]
    [InlineData(":abc\r\n", "Protocol error: invalid integer")]
    [InlineData(":01\r\n", "Protocol error: invalid integer")]
    [InlineData("$abc\r\n", "Protocol error: invalid bulk length")]
    [InlineData("$-2\r\n", "Protocol error: invalid bulk length")]
    [InlineData("!-1\r\n", "Protocol error: invalid bulk length")]
    [InlineData("$3\r\nfooXX", "Protocol error: bulk data not terminated by CRLF")]
    [InlineData("$?\r\n", "Protocol error: streamed RESP3 strings are not supported")]
    [InlineData("*?\r\n", "Protocol error: streamed RESP3 aggregates are not supported")]
    [InlineData("*-2\r\n", "Protocol error: invalid aggregate length")]
    [InlineData("%x\r\n", "Protocol error: invalid aggregate length")]
    [InlineData("#x\r\n", "Protocol error: invalid boolean")]
    [InlineData(",abc\r\n", "Protocol error: invalid double")]
    [InlineData("(12a\r\n", "Protocol error: invalid big number")]
    [InlineData("_x\r\n", "Protocol error: invalid null")]
    [InlineData("=3\r\ntxt\r\n", "Protocol error: invalid verbatim string")]
    [InlineData("+OK\rX", "Protocol error: expected CRLF")]
    [InlineData("*1\r\n?\r\n", "Protocol error: unexpected type byte '?'")]
    public void Errors(string reply, string message) => Assert.Equal(message, ParseError(reply));

    [Fact]
    public void NestingIsBounded()
    {
        string deep = string.Concat(Enumerable.Repeat("*1\r\n", RespReplyParser.MaxDepth + 1)) + ":1\r\n";
        Assert.Equal("Protocol error: nesting too deep", ParseError(deep));

        string ok = string.Concat(Enumerable.Repeat("*1\r\n", RespReplyParser.MaxDepth)) + ":1\r\n";
        Assert.Equal(RespType.Array, ParseOne(ok).Type);
    }

    [Fact]
    public void HugeAnnouncedAggregateIsIncompleteWithoutAllocating()
    {
        Assert.Equal(RespParseStatus.Incomplete, RespReplyParser.TryParse(B("*2000000000\r\n:1\r\n"), out _, out _, out _));
        Assert.Equal(RespParseStatus.Incomplete, RespReplyParser.TryParse(B("%2000000000\r\n"), out _, out _, out _));
        Assert.Equal(RespParseStatus.Incomplete, RespReplyParser.TryParse(B("$2000000000\r\nabc"), out _, out _, out _));
    }

    [Fact]
    public void ValueHelpers()
    {
        Assert.Equal("OK", ParseOne("+OK\r\n").AsString());
        Assert.Equal("5", ParseOne(":5\r\n").AsString());
        Assert.Equal("10.5", ParseOne(",10.5\r\n").AsString());
        Assert.Equal("true", ParseOne("#t\r\n").AsString());
        Assert.Equal("Some string", ParseOne("=15\r\ntxt:Some string\r\n").AsString());
        Assert.Equal("txt", ParseOne("=15\r\ntxt:Some string\r\n").Format);
        Assert.Null(ParseOne("_\r\n").AsString());
        Assert.Null(ParseOne("*0\r\n").AsString());
        Assert.True(ParseOne("$-1\r\n").IsNull);
        Assert.False(ParseOne("$0\r\n\r\n").IsNull);
        Assert.True(ParseOne("-ERR x\r\n").IsError);
        Assert.False(ParseOne("+ERR x\r\n").IsError);
        Assert.Empty(ParseOne("*0\r\n").Items!);

        Assert.Equal(
            "[\"a\", (integer) 1, (nil), (error) ERR x, (map) {OK: (double) 1.5}, (set) [(true)], (push) [(big number) 12], (verbatim txt) \"t\"]",
            ParseOne("*8\r\n$1\r\na\r\n:1\r\n_\r\n-ERR x\r\n%1\r\n+OK\r\n,1.5\r\n~1\r\n#t\r\n>1\r\n(12\r\n=5\r\ntxt:t\r\n").ToString());

        Assert.NotEqual(RespValue.BulkString("a"), RespValue.SimpleString("a"));
        Assert.NotEqual(RespValue.Array(RespValue.FromInteger(1)), RespValue.Set(RespValue.FromInteger(1)));
        Assert.NotEqual(RespValue.Array(RespValue.FromInteger(1)), RespValue.Array(RespValue.FromInteger(2)));
        Assert.Equal(RespValue.BulkString("a").GetHashCode(), RespValue.BulkString("a").GetHashCode());
        Assert.Throws<ArgumentException>(() => RespValue.Map(RespValue.Null));
    }

    [Fact]
    public void PipelinedRepliesParseOneAtATime()
    {
        byte[] bytes = B("+OK\r\n:1\r\n$3\r\nfoo\r\n*1\r\n:2\r\n+PAR");
        int offset = 0;
        var values = new List<RespValue>();
        while (RespReplyParser.TryParse(bytes.AsSpan(offset), out RespValue? value, out int consumed, out _) == RespParseStatus.Complete)
        {
            values.Add(value!);
            offset += consumed;
        }

        Assert.Equal(
            [RespValue.SimpleString("OK"), RespValue.FromInteger(1), RespValue.BulkString("foo"), RespValue.Array(RespValue.FromInteger(2))],
            values);
        Assert.Equal(bytes.Length - 4, offset);
    }
}
