using System.Buffers;

namespace AkkaCache.Protocol.Tests;

/// <summary>Deterministic checks that the server-side hot paths allocate nothing once warmed up.</summary>
public class AllocationTests
{
    [Fact]
    public void MultibulkParsingAllocatesNothingAfterWarmUp()
    {
        var pipeline = new ArrayBufferWriter<byte>();
        pipeline.Write(RespRequestEncoder.Encode("SET", "user:1000", "some value"));
        pipeline.Write(RespRequestEncoder.Encode("GET", "user:1000"));
        pipeline.Write(RespRequestEncoder.Encode("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"));
        pipeline.Write(RespRequestEncoder.Encode("SET", "big", new string('x', 2000)));
        pipeline.Write("*0\r\n"u8);
        pipeline.Write(RespRequestEncoder.Encode("INCRBY", "counter", "-12"));
        byte[] bytes = pipeline.WrittenSpan.ToArray();
        var args = new RespArguments();
        RespRequestLimits limits = RespRequestLimits.Default;

        ParseMany(bytes, args, limits, 1000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int parsed = ParseMany(bytes, args, limits, 10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(10_000, parsed);
        Assert.Equal(0, allocated);
    }

    private static int ParseMany(byte[] bytes, RespArguments args, in RespRequestLimits limits, int commands)
    {
        int parsed = 0;
        int offset = 0;
        long checksum = 0;
        while (parsed < commands)
        {
            if (offset == bytes.Length)
            {
                offset = 0;
            }

            ReadOnlySpan<byte> rest = bytes.AsSpan(offset);
            RespParseStatus status = RespRequestParser.TryParse(rest, limits, args, out int consumed, out _);
            if (status != RespParseStatus.Complete)
            {
                throw new InvalidOperationException("unexpected " + status);
            }

            for (int i = 0; i < args.Count; i++)
            {
                checksum += args.Get(rest, i).Length;
            }

            offset += consumed;
            parsed++;
        }

        return checksum > 0 ? parsed : -1;
    }

    [Fact]
    public void WritingRepliesAllocatesNothingAfterWarmUp()
    {
        var output = new ArrayBufferWriter<byte>(64 * 1024);
        var writer = new RespWriter(output, RespVersion.Resp2);
        byte[] value = new byte[300];

        WriteMany(writer, output, value, 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        WriteMany(writer, output, value, 10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    private static void WriteMany(RespWriter writer, ArrayBufferWriter<byte> output, byte[] value, int rounds)
    {
        for (int i = 0; i < rounds; i++)
        {
            output.ResetWrittenCount();
            writer.Version = (i & 1) == 0 ? RespVersion.Resp2 : RespVersion.Resp3;
            writer.WriteOk();
            writer.WriteSimpleString("PONG");
            writer.WriteSimpleString("QUEUED"u8);
            writer.WriteError("ERR unknown command");
            writer.WriteError("WRONGTYPE Operation against a key"u8);
            writer.WriteInteger(i);
            writer.WriteInteger(-1234567890123);
            writer.WriteBulkString(value);
            writer.WriteBulkString("hello");
            writer.WriteBulkString(42L);
            writer.WriteNull();
            writer.WriteNullArray();
            writer.WriteArrayHeader(3);
            writer.WriteMapHeader(2);
            writer.WriteSetHeader(2);
            writer.WritePushHeader(3);
            writer.WriteDouble(10.5);
            writer.WriteDouble(1.0 / 3);
            writer.WriteBoolean(true);
            writer.WriteVerbatimString("txt", "text");
            writer.WriteBigNumber("12345678901234567890");
            writer.WriteRaw("+RAW\r\n"u8);
        }
    }
}
