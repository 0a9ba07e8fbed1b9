using System.Buffers;
using static AkkaCache.Protocol.Tests.TestUtil;

namespace AkkaCache.Protocol.Tests;

public class EncoderTests
{
    [Fact]
    public void EncodesStrings()
    {
        Assert.Equal("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n", S(RespRequestEncoder.Encode("SET", "k", "value")));
        Assert.Equal("*2\r\n$4\r\nECHO\r\n$2\r\n\xc3\xa9\r\n", S(RespRequestEncoder.Encode("ECHO", "é")));
        Assert.Equal("*1\r\n$0\r\n\r\n", S(RespRequestEncoder.Encode("")));
        Assert.Equal("*0\r\n", S(RespRequestEncoder.Encode()));
    }

    [Fact]
    public void EncodesBinaryArgumentsIntoABufferWriter()
    {
        var output = new ArrayBufferWriter<byte>();
        ReadOnlyMemory<byte>[] args = [B("SET"), B("k\r\n"), B("\0\xff")];
        RespRequestEncoder.Encode(output, args);
        Assert.Equal("*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$2\r\n\0\xff\r\n", S(output.WrittenSpan));
    }

    [Fact]
    public void EncodedRequestsParseBack()
    {
        byte[] bytes = RespRequestEncoder.Encode("HSET", "h", "f", "v\r\n", "");
        var result = Parse(bytes);
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(["HSET", "h", "f", "v\r\n", ""], result.Args);
    }
}
