namespace AkkaCache.Protocol.Tests;

/// <summary>
/// Hostile input (random bytes biased towards protocol characters, fixed seeds) must never throw, and the
/// parsers' answers must be self-consistent: a Complete request is complete on exactly its consumed bytes,
/// every shorter prefix is Incomplete, and feeding growing prefixes to one reused RespArguments (the resume
/// path) ends with exactly the answer of a fresh parse.
/// </summary>
public class FuzzTests
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(100, 12)];

    private static byte[] Garbage(Random random)
    {
        ReadOnlySpan<byte> alphabet = "*$\r\n\r\n0123456789-+ \t\"'\\xab:_,#(!=%~>|?"u8;
        byte[] bytes = new byte[random.Next(0, 90)];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = random.Next(8) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
        }

        // Often start like a real frame so the deeper states get exercised.
        if (bytes.Length > 2 && random.Next(2) == 0)
        {
            bytes[0] = (byte)'*';
            bytes[1] = (byte)('1' + random.Next(4));
            bytes[2] = (byte)'\r';
        }

        return bytes;
    }

    private static (RespParseStatus Status, int Consumed, string? Error, string[] Args) Parse(
        ReadOnlySpan<byte> input, in RespRequestLimits limits, RespArguments args)
    {
        RespParseStatus status = RespRequestParser.TryParse(input, limits, args, out int consumed, out string? error);
        return (status, consumed, error, TestUtil.Args(args, input));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RequestParserIsTotalAndConsistent(int seed)
    {
        var random = new Random(seed);
        var limits = new RespRequestLimits(MaxBulkLength: 40, MaxArguments: 6, MaxInlineLength: 50);
        for (int round = 0; round < 1500; round++)
        {
            byte[] input = Garbage(random);
            var fresh = Parse(input, limits, new RespArguments(1));
            switch (fresh.Status)
            {
                case RespParseStatus.Complete:
                    Assert.InRange(fresh.Consumed, 1, input.Length);
                    Assert.Null(fresh.Error);
                    Assert.Equal(fresh, Parse(input.AsSpan(0, fresh.Consumed), limits, new RespArguments(1)), Same);
                    for (int cut = 0; cut < fresh.Consumed; cut++)
                    {
                        Assert.Equal(RespParseStatus.Incomplete, Parse(input.AsSpan(0, cut), limits, new RespArguments(1)).Status);
                    }

                    break;
                case RespParseStatus.Incomplete:
                    Assert.Equal(0, fresh.Consumed);
                    Assert.Null(fresh.Error);
                    break;
                default:
                    Assert.Equal(0, fresh.Consumed);
                    Assert.StartsWith("Protocol error: ", fresh.Error, StringComparison.Ordinal);
                    break;
            }

            // The server's pattern: the same start, more bytes each time, one instance.
            var reused = new RespArguments(1);
            int step = random.Next(1, 6);
            for (int cut = 0; cut < input.Length; cut += step)
            {
                var partial = Parse(input.AsSpan(0, cut), limits, reused);
                if (partial.Status != RespParseStatus.Incomplete)
                {
                    break;
                }
            }

            Assert.Equal(fresh, Parse(input, limits, reused), Same);
        }
    }

    private static readonly IEqualityComparer<(RespParseStatus, int, string?, string[])> Same =
        EqualityComparer<(RespParseStatus, int, string?, string[])>.Create(
            (a, b) => a.Item1 == b.Item1 && a.Item2 == b.Item2 && a.Item3 == b.Item3 && a.Item4.SequenceEqual(b.Item4),
            a => a.Item1.GetHashCode());

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ReplyParserIsTotalAndConsistent(int seed)
    {
        var random = new Random(seed);
        for (int round = 0; round < 3000; round++)
        {
            byte[] input = Garbage(random);
            RespParseStatus status = RespReplyParser.TryParse(input, out RespValue? value, out int consumed, out string? error);
            switch (status)
            {
                case RespParseStatus.Complete:
                    Assert.NotNull(value);
                    Assert.InRange(consumed, 1, input.Length);
                    Assert.Equal(RespParseStatus.Complete, RespReplyParser.TryParse(input.AsSpan(0, consumed), out RespValue? again, out _, out _));
                    Assert.Equal(value, again);
                    _ = value.ToString();
                    break;
                case RespParseStatus.Incomplete:
                    Assert.Null(value);
                    Assert.Null(error);
                    break;
                default:
                    Assert.Null(value);
                    Assert.StartsWith("Protocol error: ", error, StringComparison.Ordinal);
                    break;
            }
        }
    }
}
