using static AkkaCache.Protocol.Tests.TestUtil;

namespace AkkaCache.Protocol.Tests;

public class RequestParserTests
{
    private const string Set = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";

    [Fact]
    public void ParsesMultibulk()
    {
        var (status, consumed, error, args) = Parse(Set);
        Assert.Equal(RespParseStatus.Complete, status);
        Assert.Null(error);
        Assert.Equal(Set.Length, consumed);
        Assert.Equal(["SET", "key", "value"], args);
    }

    [Fact]
    public void RangesPointIntoTheSource()
    {
        var args = new RespArguments();
        byte[] input = B(Set);
        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(input, RespRequestLimits.Default, args, out _, out _));
        Assert.False(args.IsOwnedCopy);
        Assert.Equal((8, 3), args.Range(0));
        Assert.Equal((17, 3), args.Range(1));
        Assert.Equal((26, 5), args.Range(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => args.Range(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => args.Get(input, -1));
    }

    [Theory]
    [InlineData(Set)]
    [InlineData("*1\r\n$4\r\nPING\r\n")]
    [InlineData("*2\r\n$0\r\n\r\n$0\r\n\r\n")]
    [InlineData("*2\r\n$3\r\nGET\r\n$11\r\na\r\nb$*\r\n\0\xff\x80\r\n")]
    [InlineData("*-1\r\n")]
    [InlineData("*0\r\n")]
    [InlineData("SET a \"b c\"\r\n")]
    [InlineData("PING\n")]
    public void EveryPrefixIsIncompleteAndTheWholeIsComplete(string request)
    {
        byte[] bytes = B(request);
        var expected = Parse(bytes);
        Assert.Equal(RespParseStatus.Complete, expected.Status);
        Assert.Equal(bytes.Length, expected.Consumed);

        // Fresh state for every prefix, and one reused instance fed growing prefixes (the server's pattern,
        // which exercises resumption).
        var reused = new RespArguments(1);
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            byte[] prefix = bytes[..cut];
            var fresh = Parse(prefix);
            Assert.Equal(RespParseStatus.Incomplete, fresh.Status);
            Assert.Equal(0, fresh.Consumed);
            Assert.Null(fresh.Error);
            Assert.Empty(fresh.Args);

            var resumed = Parse(prefix, args: reused);
            Assert.Equal(RespParseStatus.Incomplete, resumed.Status);
            Assert.Equal(0, reused.Count);
        }

        var final = Parse(bytes, args: reused);
        Assert.Equal(RespParseStatus.Complete, final.Status);
        Assert.Equal(bytes.Length, final.Consumed);
        Assert.Equal(expected.Args, final.Args);
    }

    [Fact]
    public void PipelinedRequestsParseOneAtATime()
    {
        string input = Set + "*1\r\n$4\r\nPING\r\n" + "GET key\r\n" + "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" + "*1\r\n$4\r\nPI";
        byte[] bytes = B(input);
        var args = new RespArguments();
        var seen = new List<string[]>();
        int offset = 0;
        while (true)
        {
            ReadOnlySpan<byte> rest = bytes.AsSpan(offset);
            RespParseStatus status = RespRequestParser.TryParse(rest, RespRequestLimits.Default, args, out int consumed, out string? error);
            Assert.Null(error);
            if (status == RespParseStatus.Incomplete)
            {
                Assert.Equal(0, consumed);
                break;
            }

            Assert.Equal(RespParseStatus.Complete, status);
            seen.Add(Args(args, rest));
            offset += consumed;
        }

        Assert.Equal(
            [["SET", "key", "value"], ["PING"], ["GET", "key"], ["GET", "k"]],
            seen);
        Assert.Equal(bytes.Length - "*1\r\n$4\r\nPI".Length, offset);
    }

    [Fact]
    public void BulkValuesAreBinarySafe()
    {
        string value = "line1\r\nline2\r\n*3\r\n$1\r\n\0\x01\xfe\xff";
        string request = $"*2\r\n$4\r\nECHO\r\n${value.Length}\r\n{value}\r\n";
        var result = Parse(request);
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(["ECHO", value], result.Args);
    }

    [Fact]
    public void ZeroLengthBulk()
    {
        var result = Parse("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n");
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(["SET", "", ""], result.Args);
    }

    [Theory]
    [InlineData("*0\r\n")]
    [InlineData("*-1\r\n")]
    [InlineData("*-5\r\n")]
    public void EmptyMultibulkIsCompleteWithNoArguments(string request)
    {
        // Redis treats every count <= 0 as an empty request and skips it.
        var result = Parse(request + "*1\r\n$4\r\nPING\r\n");
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(request.Length, result.Consumed);
        Assert.Empty(result.Args);
    }

    [Theory]
    [InlineData("*x\r\n")]
    [InlineData("*\r\n")]
    [InlineData("*01\r\n")]
    [InlineData("*-0\r\n")]
    [InlineData("*+1\r\n")]
    [InlineData("* 1\r\n")]
    [InlineData("*1 \r\n")]
    [InlineData("*1x\r\n")]
    [InlineData("*99999999999999999999\r\n")]
    [InlineData("*3\n$3\r\nSET\r\n")]
    public void InvalidMultibulkLength(string request)
    {
        var result = Parse(request);
        Assert.Equal(RespParseStatus.Error, result.Status);
        Assert.Equal("Protocol error: invalid multibulk length", result.Error);
        Assert.Equal(0, result.Consumed);
    }

    [Fact]
    public void CountAboveMaxArgumentsIsInvalidMultibulkLength()
    {
        var limits = RespRequestLimits.Default with { MaxArguments = 2 };
        Assert.Equal(RespParseStatus.Complete, Parse("*2\r\n$1\r\na\r\n$1\r\nb\r\n", limits).Status);
        var result = Parse("*3\r\n", limits);
        Assert.Equal(RespParseStatus.Error, result.Status);
        Assert.Equal("Protocol error: invalid multibulk length", result.Error);

        // The default allows 1M arguments, as Redis did.
        Assert.Equal(RespParseStatus.Incomplete, Parse("*1048576\r\n").Status);
        Assert.Equal("Protocol error: invalid multibulk length", Parse("*1048577\r\n").Error);
    }

    [Theory]
    [InlineData("*1\r\n$-1\r\n")]
    [InlineData("*1\r\n$-5\r\n")]
    [InlineData("*1\r\n$01\r\n")]
    [InlineData("*1\r\n$-0\r\n")]
    [InlineData("*1\r\n$+1\r\n")]
    [InlineData("*1\r\n$\r\n")]
    [InlineData("*1\r\n$abc\r\n")]
    [InlineData("*1\r\n$a\r\n")]
    [InlineData("*1\r\n$/\r\n")]
    [InlineData("*1\r\n$9a\r\n")]
    [InlineData("*1\r\n$00\r\n")]
    [InlineData("*1\r\n$1111111111111\r\n")]
    [InlineData("*1\r\n$3 \r\nfoo\r\n")]
    [InlineData("*1\r\n$18446744073709551616\r\n")]
    [InlineData("*2\r\n$3\r\nGET\r\n$x\r\n")]
    public void InvalidBulkLength(string request)
    {
        var result = Parse(request);
        Assert.Equal(RespParseStatus.Error, result.Status);
        Assert.Equal("Protocol error: invalid bulk length", result.Error);
    }

    [Fact]
    public void BulkAboveMaxBulkLengthIsRejectedBeforeItsDataArrives()
    {
        var limits = RespRequestLimits.Default with { MaxBulkLength = 5 };
        Assert.Equal(["SET", "12345"], Parse("*2\r\n$3\r\nSET\r\n$5\r\n12345\r\n", limits).Args);
        var result = Parse("*2\r\n$3\r\nSET\r\n$6\r\n", limits);
        Assert.Equal(RespParseStatus.Error, result.Status);
        Assert.Equal("Protocol error: invalid bulk length", result.Error);

        // Default: 1 MB.
        Assert.Equal(RespParseStatus.Incomplete, Parse("*1\r\n$1048576\r\n").Status);
        Assert.Equal("Protocol error: invalid bulk length", Parse("*1\r\n$1048577\r\n").Error);
    }

    [Theory]
    [InlineData("*1\r\nx\r\n", "x")]
    [InlineData("*1\r\n:1\r\n", ":")]
    [InlineData("*2\r\n$3\r\nGET\r\n+foo\r\n", "+")]
    [InlineData("*1\r\n\r\r\n", " ")]
    [InlineData("*1\r\n\r\n", " ")]
    [InlineData("*1\r\n\n\r\n", " ")]
    [InlineData("*1\r\n*1\r\n", "*")]
    [InlineData("*1\r\n\xe9\r\n", "\xe9")]
    public void ExpectedDollar(string request, string got)
    {
        var result = Parse(request);
        Assert.Equal(RespParseStatus.Error, result.Status);
        Assert.Equal($"Protocol error: expected '$', got '{got}'", result.Error);
    }

    [Theory]
    [InlineData("*1\r\nx")]
    [InlineData("*1\r\nxyz")]
    [InlineData("*1\r\nx\r")]
    [InlineData("*1\r\n$3")]
    [InlineData("*1\r\n$3\r")]
    [InlineData("*1\r\n$-1")]
    [InlineData("*01")]
    [InlineData("*1\r")]
    public void HeaderErrorsWaitForTheWholeLine(string request)
    {
        // Like Redis, a header is only judged once its CR and the byte after it have arrived.
        Assert.Equal(RespParseStatus.Incomplete, Parse(request).Status);
    }

    [Fact]
    public void TooBigCountStrings()
    {
        // No CR within MaxInlineLength bytes of the '*' or '$'.
        string count = "*" + new string('0', 65535);
        Assert.Equal(RespParseStatus.Incomplete, Parse(count).Status);
        var tooBig = Parse(count + "0");
        Assert.Equal(RespParseStatus.Error, tooBig.Status);
        Assert.Equal("Protocol error: too big mbulk count string", tooBig.Error);
        Assert.Equal(RespParseStatus.Incomplete, Parse(count + "\r").Status);
        Assert.Equal("Protocol error: invalid multibulk length", Parse(count + "\r\n").Error);

        string bulk = "*1\r\n$" + new string('0', 65535);
        Assert.Equal(RespParseStatus.Incomplete, Parse(bulk).Status);
        Assert.Equal("Protocol error: too big bulk count string", Parse(bulk + "0").Error);
        Assert.Equal(RespParseStatus.Incomplete, Parse(bulk + "\r").Status);
        Assert.Equal("Protocol error: invalid bulk length", Parse(bulk + "\r\n").Error);

        var small = RespRequestLimits.Default with { MaxInlineLength = 4 };
        Assert.Equal(RespParseStatus.Incomplete, Parse("*111", small).Status);
        Assert.Equal("Protocol error: too big mbulk count string", Parse("*1111", small).Error);
        Assert.Equal("Protocol error: too big bulk count string", Parse("*1\r\n$1111", small).Error);
    }

    [Fact]
    public void BytesAfterCrAndAfterBulkDataAreSkippedUncheckedLikeRedis()
    {
        var result = Parse("*1\r\n$4\r\nPINGXX*1\r\n$4\r\nPING\r\n");
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(["PING"], result.Args);
        Assert.Equal(14, result.Consumed);

        result = Parse("*1\rX$4\r\nPING\r\n");
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(["PING"], result.Args);
    }

    [Fact]
    public void LargeValueIncompleteOnlyComparesLengths()
    {
        const int size = 1024 * 1024;
        byte[] request = RespRequestEncoder.Encode("SET", "k", new string('v', size));
        var args = new RespArguments();
        for (int cut = 100; cut < request.Length; cut += 64 * 1024)
        {
            Assert.Equal(RespParseStatus.Incomplete, RespRequestParser.TryParse(request.AsSpan(0, cut), RespRequestLimits.Default, args, out _, out _));
        }

        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(request, RespRequestLimits.Default, args, out int consumed, out _));
        Assert.Equal(request.Length, consumed);
        Assert.Equal(size, args.Get(request, 2).Length);
    }

    [Fact]
    public void ResumesACommandWithManyArgumentsFedInSmallPieces()
    {
        string[] parts = new string[20_000];
        parts[0] = "MSET";
        for (int i = 1; i < parts.Length; i++)
        {
            parts[i] = "k" + i;
        }

        byte[] request = RespRequestEncoder.Encode(parts);
        var args = new RespArguments();
        for (int cut = 0; cut < request.Length; cut += 997)
        {
            Assert.Equal(RespParseStatus.Incomplete, RespRequestParser.TryParse(request.AsSpan(0, cut), RespRequestLimits.Default, args, out _, out _));
        }

        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(request, RespRequestLimits.Default, args, out int consumed, out _));
        Assert.Equal(request.Length, consumed);
        Assert.Equal(parts, Args(args, request));
    }

    [Fact]
    public void ClearForgetsAPendingParse()
    {
        var args = new RespArguments();
        byte[] first = B("*3\r\n$3\r\nSET\r\n$1\r\na\r\n");
        Assert.Equal(RespParseStatus.Incomplete, RespRequestParser.TryParse(first, RespRequestLimits.Default, args, out _, out _));
        args.Clear();

        // A different, longer command from the same start: must be parsed from scratch.
        byte[] other = B("*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n");
        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(other, RespRequestLimits.Default, args, out _, out _));
        Assert.Equal(["GET", "hello"], Args(args, other));
    }

    [Fact]
    public void ShorterInputAfterIncompleteIsParsedFromScratch()
    {
        var args = new RespArguments();
        byte[] first = B("*2\r\n$3\r\nfoo\r\n");
        Assert.Equal(RespParseStatus.Incomplete, RespRequestParser.TryParse(first, RespRequestLimits.Default, args, out _, out _));
        byte[] other = B("*1\r\n$1\r\na\r\n");
        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(other, RespRequestLimits.Default, args, out _, out _));
        Assert.Equal(["a"], Args(args, other));

        // An inline line after a pending multibulk (and vice versa) is a fresh parse too.
        Assert.Equal(RespParseStatus.Incomplete, RespRequestParser.TryParse(first, RespRequestLimits.Default, args, out _, out _));
        byte[] inline = B("PING hello world\r\n");
        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(inline, RespRequestLimits.Default, args, out _, out _));
        Assert.Equal(["PING", "hello", "world"], Args(args, inline));
    }

    [Fact]
    public void CountIsZeroAfterIncompleteAndError()
    {
        var args = new RespArguments();
        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(B(Set), RespRequestLimits.Default, args, out _, out _));
        Assert.Equal(3, args.Count);
        Assert.Equal(RespParseStatus.Incomplete, RespRequestParser.TryParse(B("*2\r\n$3\r\nGET\r\n"), RespRequestLimits.Default, args, out _, out _));
        Assert.Equal(0, args.Count);
        Assert.Equal(RespParseStatus.Complete, RespRequestParser.TryParse(B(Set), RespRequestLimits.Default, args, out _, out _));
        Assert.Equal(RespParseStatus.Error, RespRequestParser.TryParse(B("*x\r\n"), RespRequestLimits.Default, args, out _, out _));
        Assert.Equal(0, args.Count);
    }

    [Fact]
    public void EmptyInputIsIncomplete()
    {
        var result = Parse("");
        Assert.Equal(RespParseStatus.Incomplete, result.Status);
        Assert.Equal(0, result.Consumed);
    }

    [Fact]
    public void ArgumentsGrowBeyondInitialCapacity()
    {
        var args = new RespArguments(1);
        string[] parts = [.. Enumerable.Range(0, 100).Select(i => "a" + i)];
        byte[] request = RespRequestEncoder.Encode(parts);
        Assert.Equal(parts, Parse(request, args: args).Args);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RespArguments(0));
    }
}
