using static AkkaCache.Protocol.Tests.TestUtil;

namespace AkkaCache.Protocol.Tests;

public class InlineParserTests
{
    public static TheoryData<string, string[]> Lines => new()
    {
        { "PING\r\n", ["PING"] },
        { "PING\n", ["PING"] },
        { " PING\t\r\n", ["PING"] },
        { "SET a b\r\n", ["SET", "a", "b"] },
        { "SET  a\t\tb   \r\n", ["SET", "a", "b"] },
        { "\v\fSET a\r\n", ["SET", "a"] },
        { "SET a\vb\r\n", ["SET", "a\vb"] },
        { "SET a\rb\r\n", ["SET", "a", "b"] },
        { "SET \"a b\" 'c d'\r\n", ["SET", "a b", "c d"] },
        { "ECHO \"\"\r\n", ["ECHO", ""] },
        { "ECHO ''\r\n", ["ECHO", ""] },
        { "ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\\q\"\r\n", ["ECHO", "\n\r\t\b\a\\\"q"] },
        { "ECHO \"a\\x41\\x4a\\xff\\x00z\"\r\n", ["ECHO", "aAJ\xff\0z"] },
        { "ECHO \"\\xZZ\\x4\"\r\n", ["ECHO", "xZZx4"] },
        { "ECHO 'a\\'b'\r\n", ["ECHO", "a'b"] },
        { "ECHO 'a\\nb'\r\n", ["ECHO", "a\\nb"] },
        { "ECHO 'say \"hi\"'\r\n", ["ECHO", "say \"hi\""] },
        { "ECHO \"it's\"\r\n", ["ECHO", "it's"] },
        { "ECHO a\"b c\"\r\n", ["ECHO", "ab c"] },
        { "ECHO a'b c'\r\n", ["ECHO", "ab c"] },
        { "ECHO \"a\"\tb\r\n", ["ECHO", "a", "b"] },
        { "ECHO \"a\"\vb\r\n", ["ECHO", "a", "b"] },
        { "ECHO \"a\"\r\n", ["ECHO", "a"] },
        { "ECHO \xe9\xff\r\n", ["ECHO", "\xe9\xff"] },
        { "PING a\0b c\r\n", ["PING", "a"] },
        { "GET k\r\r\n", ["GET", "k"] },
    };

    [Theory]
    [MemberData(nameof(Lines))]
    public void SplitsLikeRedis(string line, string[] expected)
    {
        var args = new RespArguments();
        var result = Parse(line + "*1\r\n$4\r\nPING\r\n", args: args);
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(line.Length, result.Consumed);
        Assert.Equal(expected, result.Args);
        Assert.True(args.IsOwnedCopy);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData(" \t\n")]
    [InlineData("\0abc\r\n")]
    public void EmptyLineIsCompleteWithNoArguments(string line)
    {
        var result = Parse(line);
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(line.Length, result.Consumed);
        Assert.Empty(result.Args);
    }

    [Theory]
    [InlineData("ECHO \"a\r\n")]
    [InlineData("ECHO 'a\r\n")]
    [InlineData("ECHO \"a\"x\r\n")]
    [InlineData("ECHO 'a'x\r\n")]
    [InlineData("ECHO \"a\\\"\r\n")]
    [InlineData("ECHO 'a\\'\r\n")]
    [InlineData("ECHO \"a\\\r\n")]
    [InlineData("ECHO \"a\"\"b\"\r\n")]
    [InlineData("ECHO \"a\0\"\r\n")]
    [InlineData("\"\r\n")]
    public void UnbalancedQuotes(string line)
    {
        var result = Parse(line);
        Assert.Equal(RespParseStatus.Error, result.Status);
        Assert.Equal("Protocol error: unbalanced quotes in request", result.Error);
        Assert.Equal(0, result.Consumed);
    }

    [Fact]
    public void TooBigInlineRequest()
    {
        // Default limit: 64 KB without a newline is still incomplete, one byte more is an error.
        Assert.Equal(RespParseStatus.Incomplete, Parse(new string('x', 65536)).Status);
        var error = Parse(new string('x', 65537));
        Assert.Equal(RespParseStatus.Error, error.Status);
        Assert.Equal("Protocol error: too big inline request", error.Error);

        var limits = RespRequestLimits.Default with { MaxInlineLength = 8 };
        Assert.Equal(RespParseStatus.Incomplete, Parse("SET a bc", limits).Status);
        Assert.Equal("Protocol error: too big inline request", Parse("SET a bcd", limits).Error);
        Assert.Equal(["SET", "a", "bc"], Parse("SET a bc\n", limits).Args);
        Assert.Equal(["SET", "a", "b"], Parse("SET a b\r\n", limits).Args);

        // The limit holds even when the newline has arrived, so the outcome does not depend on chunking.
        Assert.Equal("Protocol error: too big inline request", Parse("SET a bcd\n", limits).Error);
        Assert.Equal("Protocol error: too big inline request", Parse("SET a bc\r\n", limits).Error);
    }

    [Fact]
    public void OwnedArgumentsAreRangesOfTheOwnedBuffer()
    {
        var args = new RespArguments();
        byte[] input = B("SET \"a\\x41\" b\r\n");
        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(input, RespRequestLimits.Default, args, out _, out _));
        Assert.True(args.IsOwnedCopy);
        Assert.Equal((0, 3), args.Range(0));
        Assert.Equal((3, 2), args.Range(1));
        Assert.Equal((5, 1), args.Range(2));

        // Get ignores the source for owned arguments.
        Assert.Equal("aA", S(args.Get(default, 1)));

        // A multibulk afterwards switches back to source ranges.
        byte[] multibulk = B("*1\r\n$4\r\nPING\r\n");
        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(multibulk, RespRequestLimits.Default, args, out _, out _));
        Assert.False(args.IsOwnedCopy);
        Assert.Equal("PING", S(args.Get(multibulk, 0)));
    }

    [Fact]
    public void IncompleteInlineResumesScanning()
    {
        var args = new RespArguments();
        string line = "SET key " + new string('v', 5000) + "\r\n";
        byte[] bytes = B(line);
        for (int cut = 1; cut < bytes.Length; cut += 7)
        {
            Assert.Equal(RespParseStatus.Incomplete, RespRequestParser.TryParse(bytes.AsSpan(0, cut), RespRequestLimits.Default, args, out _, out _));
        }

        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(bytes, RespRequestLimits.Default, args, out int consumed, out _));
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(new string('v', 5000), S(args.Get(bytes, 2)));
    }
}
