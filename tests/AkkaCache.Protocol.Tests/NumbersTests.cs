using static AkkaCache.Protocol.Tests.TestUtil;

namespace AkkaCache.Protocol.Tests;

public class NumbersTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1", 1L)]
    [InlineData("-1", -1L)]
    [InlineData("123", 123L)]
    [InlineData("1000000", 1000000L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("-9223372036854775807", -long.MaxValue)]
    public void ParsesInt64(string text, long expected)
    {
        Assert.True(RespNumbers.TryParseInt64(B(text), out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("007")]
    [InlineData("01")]
    [InlineData("00")]
    [InlineData("-0")]
    [InlineData("-01")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("18446744073709551616")]
    [InlineData("99999999999999999999")]
    [InlineData("-99999999999999999999")]
    [InlineData("100000000000000000000")]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("abc")]
    [InlineData("12a")]
    [InlineData("1\0")]
    [InlineData("--1")]
    [InlineData("0x10")]
    public void RejectsInvalidInt64(string text)
    {
        Assert.False(RespNumbers.TryParseInt64(B(text), out long value));
        Assert.Equal(0, value);
    }

    [Theory]
    [InlineData("1", 1.0)]
    [InlineData("-1", -1.0)]
    [InlineData("+1", 1.0)]
    [InlineData("1.5", 1.5)]
    [InlineData("-1.5", -1.5)]
    [InlineData(".5", 0.5)]
    [InlineData("-.5", -0.5)]
    [InlineData("5.", 5.0)]
    [InlineData("1e3", 1000.0)]
    [InlineData("1E3", 1000.0)]
    [InlineData("1e+3", 1000.0)]
    [InlineData("2.5e-2", 0.025)]
    [InlineData("5.0e3", 5000.0)]
    [InlineData("0", 0.0)]
    [InlineData("00012", 12.0)]
    [InlineData("0e-999", 0.0)]
    [InlineData("10.50", 10.5)]
    [InlineData("0.1", 0.1)]
    [InlineData("17179869184", 17179869184.0)]
    [InlineData("1e-310", 1e-310)]
    [InlineData("1.7976931348623157e308", double.MaxValue)]
    [InlineData("inf", double.PositiveInfinity)]
    [InlineData("+inf", double.PositiveInfinity)]
    [InlineData("-inf", double.NegativeInfinity)]
    [InlineData("Infinity", double.PositiveInfinity)]
    [InlineData("-INF", double.NegativeInfinity)]
    [InlineData("0x10", 16.0)]
    [InlineData("0X1A", 26.0)]
    [InlineData("-0x10", -16.0)]
    [InlineData("0x1p4", 16.0)]
    [InlineData("0x1.8", 1.5)]
    [InlineData("0x.8p1", 1.0)]
    [InlineData("0x1P-2", 0.25)]
    [InlineData("0x1fffffffffffff", 9007199254740991.0)]
    [InlineData("0x123456789abcdef0123", 5.373003642731685e21)]
    public void ParsesDoubles(string text, double expected)
    {
        Assert.True(RespNumbers.TryParseDouble(B(text), out double value), text);
        Assert.Equal(expected, value);
    }

    [Fact]
    public void ParsesNegativeZero()
    {
        Assert.True(RespNumbers.TryParseDouble("-0"u8, out double value));
        Assert.True(double.IsNegative(value));
        Assert.Equal(0.0, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("\t1")]
    [InlineData("1\n")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("e3")]
    [InlineData(".")]
    [InlineData("-")]
    [InlineData("+")]
    [InlineData("-.")]
    [InlineData("nan")]
    [InlineData("NaN")]
    [InlineData("-nan")]
    [InlineData("1.5.5")]
    [InlineData("1,5")]
    [InlineData("1_0")]
    [InlineData("--1")]
    [InlineData("+-1")]
    [InlineData("abc")]
    [InlineData("in")]
    [InlineData("infx")]
    [InlineData("infinit")]
    [InlineData("0x")]
    [InlineData("0xg")]
    [InlineData("0x1p")]
    [InlineData("0x1p+")]
    [InlineData("0x1.8.")]
    [InlineData("0x.")]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1e-400")]
    [InlineData("0x1p99999")]
    [InlineData("0x1p-99999")]
    [InlineData("1\0")]
    public void RejectsInvalidDoubles(string text)
    {
        Assert.False(RespNumbers.TryParseDouble(B(text), out _), text);
    }

    [Fact]
    public void RejectsOverlongDoubleInput()
    {
        byte[] almost = B("1." + new string('0', 5117));
        Assert.Equal(5119, almost.Length);
        Assert.True(RespNumbers.TryParseDouble(almost, out double one));
        Assert.Equal(1.0, one);
        Assert.False(RespNumbers.TryParseDouble(B("1." + new string('0', 5118)), out _));
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(9L, "9")]
    [InlineData(10L, "10")]
    [InlineData(-5L, "-5")]
    [InlineData(1234567890L, "1234567890")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    public void FormatsInt64(long value, string expected)
    {
        Span<byte> buffer = stackalloc byte[RespNumbers.MaxInt64Length];
        Assert.Equal(expected, S(buffer[..RespNumbers.FormatInt64(value, buffer)]));
    }

    [Fact]
    public void FormatInt64ChecksTheDestination()
    {
        Assert.Throws<ArgumentException>(() => RespNumbers.FormatInt64(123, new byte[2]));
        Assert.Throws<ArgumentException>(() => RespNumbers.FormatInt64(1, []));
    }

    private static string Human(double value)
    {
        Span<byte> buffer = stackalloc byte[RespNumbers.MaxDoubleLength];
        return S(buffer[..RespNumbers.FormatDouble(value, buffer)]);
    }

    [Theory]
    [InlineData(3000.0, "3000")]
    [InlineData(5200.0, "5200")]
    [InlineData(10.5, "10.5")]
    [InlineData(0.1, "0.1")]
    [InlineData(-0.1, "-0.1")]
    [InlineData(1.0, "1")]
    [InlineData(-1.0, "-1")]
    [InlineData(0.0, "0")]
    [InlineData(1234.1, "1234.1")]
    [InlineData(17179869185.5, "17179869185.5")]
    [InlineData(34359738368.0, "34359738368")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1.5e21, "1500000000000000000000")]
    [InlineData(1e-5, "0.00001")]
    [InlineData(1.25e-10, "0.000000000125")]
    [InlineData(1e-17, "0.00000000000000001")]
    [InlineData(1.5e-17, "0.00000000000000002")]
    [InlineData(9.999999999999999e-18, "0.00000000000000001")]
    [InlineData(4e-18, "0")]
    [InlineData(1e-20, "0")]
    [InlineData(-1e-20, "0")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(1.0000000000000002, "1.0000000000000002")]
    [InlineData(0.12345678901234568, "0.12345678901234568")]
    [InlineData(0.012345678901234568, "0.01234567890123457")]
    [InlineData(123456789.12345678, "123456789.12345678")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    [InlineData(double.NaN, "nan")]
    public void FormatsDoublesLikeIncrByFloat(double value, string expected) => Assert.Equal(expected, Human(value));

    [Fact]
    public void NegativeZero()
    {
        Assert.Equal("0", Human(-0.0));
        Assert.Equal("-0", Reply(-0.0));
    }

    [Fact]
    public void FormatsIncrByFloatSums()
    {
        // The documented INCRBYFLOAT examples.
        Assert.Equal("10.6", Human(10.5 + 0.1));
        Assert.Equal("5.6", Human(10.6 + -5));
        Assert.Equal("5200", Human(5.0e3 + 2.0e2));
    }

    [Fact]
    public void FormatsExtremeDoublesWithoutExponent()
    {
        string max = Human(double.MaxValue);
        Assert.Equal(309, max.Length);
        Assert.StartsWith("17976931348623157000", max, StringComparison.Ordinal);
        Assert.Equal(310, Human(-double.MaxValue).Length);
        Assert.Equal("0", Human(double.Epsilon));
        Assert.Throws<ArgumentException>(() => RespNumbers.FormatDouble(double.MaxValue, new byte[100]));
        Assert.Throws<ArgumentException>(() => RespNumbers.FormatDouble(10.5, new byte[3]));
    }

    private static string Reply(double value)
    {
        Span<byte> buffer = stackalloc byte[RespNumbers.MaxDoubleReplyLength];
        return S(buffer[..RespNumbers.FormatDoubleReply(value, buffer)]);
    }

    [Theory]
    [InlineData(3.0, "3")]
    [InlineData(10.5, "10.5")]
    [InlineData(1.1, "1.1")]
    [InlineData(0.1, "0.1")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(0.0, "0")]
    [InlineData(123456.789, "123456.789")]
    [InlineData(12345678.9, "12345678.9")]
    [InlineData(150000000.0, "150000000")]
    [InlineData(1e18, "1000000000000000000")]
    [InlineData(4611686018427387904.0, "4611686018427387904")]
    [InlineData(-4611686018427387904.0, "-4611686018427387904")]
    [InlineData(9223372036854775808.0, "9223372036854776000")]
    [InlineData(1e19, "1e+19")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1.2345678901234567e22, "12345678901234568000000")]
    [InlineData(1e300, "1e+300")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(-1.5e300, "-1.5e+300")]
    [InlineData(1e100, "1e+100")]
    [InlineData(1e-5, "0.00001")]
    [InlineData(1e-6, "0.000001")]
    [InlineData(0.001234, "0.001234")]
    [InlineData(0.0001234, "1.234e-4")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(1.5e-7, "1.5e-7")]
    [InlineData(1.23e-18, "1.23e-18")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(0.3333333333333333, "0.3333333333333333")]
    [InlineData(double.MaxValue, "1.7976931348623157e+308")]
    [InlineData(double.Epsilon, "5e-324")]
    [InlineData(-double.Epsilon, "-5e-324")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    [InlineData(double.NaN, "nan")]
    public void FormatsDoublesLikeRedisReplies(double value, string expected) => Assert.Equal(expected, Reply(value));

    [Fact]
    public void ReplyFormatRoundTrips()
    {
        var random = new Random(7);
        Span<byte> buffer = stackalloc byte[RespNumbers.MaxDoubleReplyLength];
        for (int i = 0; i < 20_000; i++)
        {
            double value = BitConverter.Int64BitsToDouble(random.NextInt64());
            if (!double.IsFinite(value))
            {
                continue;
            }

            int length = RespNumbers.FormatDoubleReply(value, buffer);
            Assert.True(RespNumbers.TryParseDouble(buffer[..length], out double back) || value == 0 || Math.Abs(value) < 1e-307, S(buffer[..length]));
            if (Math.Abs(value) >= 2.3e-308)
            {
                Assert.Equal(value, back);
            }
        }
    }

    [Theory]
    [InlineData("get", "GET", true)]
    [InlineData("GET", "GET", true)]
    [InlineData("GeT", "GET", true)]
    [InlineData("", "", true)]
    [InlineData("client-id", "CLIENT-ID", true)]
    [InlineData("zadd2", "ZADD2", true)]
    [InlineData("gets", "GET", false)]
    [InlineData("ge", "GET", false)]
    [InlineData("gex", "GET", false)]
    [InlineData("{", "[", false)]
    [InlineData("`", "@", false)]
    [InlineData("\0", " ", false)]
    [InlineData("\xc7", "G", false)]
    [InlineData("\xe7", "G", false)]
    public void EqualsIgnoreCaseAscii(string value, string upper, bool expected) =>
        Assert.Equal(expected, RespNumbers.EqualsIgnoreCaseAscii(B(value), B(upper)));
}
