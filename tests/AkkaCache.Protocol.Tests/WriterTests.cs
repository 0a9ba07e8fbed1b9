using System.Buffers;
using System.Text;
using static AkkaCache.Protocol.Tests.TestUtil;

namespace AkkaCache.Protocol.Tests;

public class WriterTests
{
    private static string Write(RespVersion version, Action<RespWriter> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(new RespWriter(output, version));
        return S(output.WrittenSpan);
    }

    private static void Both(string expected, Action<RespWriter> write)
    {
        Assert.Equal(expected, Write(RespVersion.Resp2, write));
        Assert.Equal(expected, Write(RespVersion.Resp3, write));
    }

    private static void Each(string resp2, string resp3, Action<RespWriter> write)
    {
        Assert.Equal(resp2, Write(RespVersion.Resp2, write));
        Assert.Equal(resp3, Write(RespVersion.Resp3, write));
    }

    [Fact]
    public void SimpleStrings()
    {
        Both("+OK\r\n", w => w.WriteOk());
        Both("+PONG\r\n", w => w.WriteSimpleString("PONG"));
        Both("+QUEUED\r\n", w => w.WriteSimpleString("QUEUED"u8));
        Both("+\r\n", w => w.WriteSimpleString(""));
        Both("+caf\xc3\xa9\r\n", w => w.WriteSimpleString("café"));
    }

    [Fact]
    public void Errors()
    {
        Both("-ERR unknown command 'FOO'\r\n", w => w.WriteError("ERR unknown command 'FOO'"));
        Both("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            w => w.WriteError("WRONGTYPE Operation against a key holding the wrong kind of value"u8));
        Both("-MOVED 3999 127.0.0.1:6381\r\n", w => w.WriteError("MOVED 3999 127.0.0.1:6381"));

        // Line breaks (often from quoted client input) must not split the reply.
        Both("-ERR bad  arg x\r\n", w => w.WriteError("ERR bad\r\narg\nx"));
        Both("-ERR a b\r\n", w => w.WriteError("ERR a\rb"u8));
    }

    [Theory]
    [InlineData(0L, ":0\r\n")]
    [InlineData(7L, ":7\r\n")]
    [InlineData(42L, ":42\r\n")]
    [InlineData(-1L, ":-1\r\n")]
    [InlineData(long.MaxValue, ":9223372036854775807\r\n")]
    [InlineData(long.MinValue, ":-9223372036854775808\r\n")]
    public void Integers(long value, string expected) => Both(expected, w => w.WriteInteger(value));

    [Fact]
    public void BulkStrings()
    {
        Both("$3\r\nfoo\r\n", w => w.WriteBulkString("foo"u8));
        Both("$0\r\n\r\n", w => w.WriteBulkString(ReadOnlySpan<byte>.Empty));
        Both("$0\r\n\r\n", w => w.WriteBulkString(""));
        Both("$4\r\na\r\nb\r\n", w => w.WriteBulkString(B("a\r\nb")));
        Both("$3\r\n\0\xff\x80\r\n", w => w.WriteBulkString(B("\0\xff\x80")));
        Both("$6\r\nh\xc3\xa9llo\r\n", w => w.WriteBulkString("héllo"));
        Both("$4\r\n\xf0\x9f\x98\x80\r\n", w => w.WriteBulkString("\U0001F600"));
        Both("$3\r\n\xef\xbf\xbd\r\n", w => w.WriteBulkString("\uD800")); // lone surrogate -> U+FFFD
        Both("$5\r\n12345\r\n", w => w.WriteBulkString(12345L));
        Both("$2\r\n-7\r\n", w => w.WriteBulkString(-7L));
        Both("$1\r\n0\r\n", w => w.WriteBulkString(0L));
        Both("$20\r\n-9223372036854775808\r\n", w => w.WriteBulkString(long.MinValue));
        Both("$5\r\nhello\r\n", w =>
        {
            w.WriteBulkStringHeader(5);
            w.WriteRaw("hel"u8);
            w.WriteRaw("lo"u8);
            w.WriteCrLf();
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => Write(RespVersion.Resp2, w => w.WriteBulkStringHeader(-1)));
    }

    [Fact]
    public void Nulls()
    {
        Each("$-1\r\n", "_\r\n", w => w.WriteNull());
        Each("*-1\r\n", "_\r\n", w => w.WriteNullArray());
    }

    [Fact]
    public void AggregateHeaders()
    {
        Both("*3\r\n", w => w.WriteArrayHeader(3));
        Both("*0\r\n", w => w.WriteArrayHeader(0));
        Each("*4\r\n", "%2\r\n", w => w.WriteMapHeader(2));
        Each("*0\r\n", "%0\r\n", w => w.WriteMapHeader(0));
        Each("*2\r\n", "~2\r\n", w => w.WriteSetHeader(2));
        Each("*3\r\n", ">3\r\n", w => w.WritePushHeader(3));
    }

    [Theory]
    [InlineData(3.0, "3")]
    [InlineData(10.5, "10.5")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(1.1, "1.1")]
    [InlineData(0.0, "0")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    [InlineData(double.NaN, "nan")]
    [InlineData(1e19, "1e+19")]
    [InlineData(1.5e-7, "1.5e-7")]
    public void Doubles(double value, string repr)
    {
        Each($"${repr.Length}\r\n{repr}\r\n", $",{repr}\r\n", w => w.WriteDouble(value));
    }

    [Fact]
    public void Booleans()
    {
        Each(":1\r\n", "#t\r\n", w => w.WriteBoolean(true));
        Each(":0\r\n", "#f\r\n", w => w.WriteBoolean(false));
    }

    [Fact]
    public void VerbatimStrings()
    {
        Each("$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n", w => w.WriteVerbatimString("txt", "Some string"));
        Each("$0\r\n\r\n", "=4\r\nmkd:\r\n", w => w.WriteVerbatimString("mkd", ""));
        Each("$2\r\n\xc3\xa9\r\n", "=6\r\ntxt:\xc3\xa9\r\n", w => w.WriteVerbatimString("txt", "é"));
        Assert.Throws<ArgumentException>(() => Write(RespVersion.Resp3, w => w.WriteVerbatimString("text", "x")));
    }

    [Fact]
    public void BigNumbers()
    {
        const string digits = "3492890328409238509324850943850943825024385";
        Each($"$43\r\n{digits}\r\n", $"({digits}\r\n", w => w.WriteBigNumber(digits));
        Each("$4\r\n-123\r\n", "(-123\r\n", w => w.WriteBigNumber("-123"));
    }

    [Fact]
    public void Raw()
    {
        Both("+OK\r\n:1\r\n", w => w.WriteRaw("+OK\r\n:1\r\n"u8));
        Both("", w => w.WriteRaw(default));
    }

    [Fact]
    public void VersionCanChangeMidStream()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new RespWriter(output, RespVersion.Resp2);
        writer.WriteNull();
        Assert.Equal(RespVersion.Resp2, writer.Version);
        writer.Version = RespVersion.Resp3;
        writer.WriteNull();
        Assert.Equal("$-1\r\n_\r\n", S(output.WrittenSpan));
    }

    [Fact]
    public void CompositeReply()
    {
        // HGETALL-like map with a nested array, in both shapes.
        static void Reply(RespWriter w)
        {
            w.WriteMapHeader(2);
            w.WriteBulkString("a");
            w.WriteInteger(1);
            w.WriteBulkString("b");
            w.WriteArrayHeader(2);
            w.WriteDouble(0.5);
            w.WriteNull();
        }

        Each("*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*2\r\n$3\r\n0.5\r\n$-1\r\n",
            "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*2\r\n,0.5\r\n_\r\n", Reply);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(4096)]
    public void LargeValuesAreWrittenInWhateverPiecesTheOutputOffers(int chunk)
    {
        var random = new Random(chunk);
        byte[] value = new byte[100_000];
        random.NextBytes(value);
        var text = new StringBuilder();
        for (int i = 0; i < 20_000; i++)
        {
            // ASCII, 2-, 3- and 4-byte UTF-8 sequences, so pieces end inside multi-byte characters.
            text.Append((random.Next(4)) switch { 0 => "a", 1 => "é", 2 => "€", _ => "\U0001F600" });
        }

        string str = text.ToString();
        byte[] strBytes = Encoding.UTF8.GetBytes(str);

        var output = new ChunkedBufferWriter(chunk);
        var writer = new RespWriter(output, RespVersion.Resp3);
        writer.WriteBulkString(value);
        writer.WriteBulkString(str);
        writer.WriteRaw(value);
        writer.WriteVerbatimString("txt", str);
        writer.WriteError(new string('e', 10_000) + "\n");
        writer.WriteSimpleString(new string('s', 10_000));

        var expected = new List<byte>();
        expected.AddRange(B($"${value.Length}\r\n"));
        expected.AddRange(value);
        expected.AddRange(B($"\r\n${strBytes.Length}\r\n"));
        expected.AddRange(strBytes);
        expected.AddRange(B("\r\n"));
        expected.AddRange(value);
        expected.AddRange(B($"={strBytes.Length + 4}\r\ntxt:"));
        expected.AddRange(strBytes);
        expected.AddRange(B("\r\n-" + new string('e', 10_000) + " \r\n+" + new string('s', 10_000) + "\r\n"));
        Assert.Equal(expected.ToArray(), output.WrittenBytes);
    }

    [Fact]
    public void SmallRepliesUseOneSpanEach()
    {
        var output = new ChunkedBufferWriter(16);
        var writer = new RespWriter(output, RespVersion.Resp2);
        writer.WriteBulkString("hello world, hello world"u8);
        writer.WriteInteger(5);
        writer.WriteDouble(2.5);
        Assert.Equal(3, output.GetSpanCalls);
        Assert.Equal("$24\r\nhello world, hello world\r\n:5\r\n$3\r\n2.5\r\n", S(output.WrittenBytes));
    }

    [Fact]
    public void ConstructorRejectsNullOutput() =>
        Assert.Throws<ArgumentNullException>(() => new RespWriter(null!, RespVersion.Resp2));
}
