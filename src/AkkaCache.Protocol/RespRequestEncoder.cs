using System.Buffers;
using System.Text;

namespace AkkaCache.Protocol;

/// <summary>Encodes commands as RESP multibulk requests (client side).</summary>
public static class RespRequestEncoder
{
    /// <summary>Encodes <paramref name="args"/> (UTF-8) as "*N\r\n$len\r\narg\r\n..." into a new array.</summary>
    public static byte[] Encode(params string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Span<byte> digits = stackalloc byte[RespNumbers.MaxInt64Length];
        long total = 3 + RespNumbers.FormatInt64(args.Length, digits);
        foreach (string arg in args)
        {
            ArgumentNullException.ThrowIfNull(arg, nameof(args));
            int length = Encoding.UTF8.GetByteCount(arg);
            total += 1 + RespNumbers.FormatInt64(length, digits) + 2 + length + 2;
        }

        byte[] result = new byte[checked((int)total)];
        Span<byte> span = result;
        int pos = WriteHeader(span, (byte)'*', args.Length);
        foreach (string arg in args)
        {
            int length = Encoding.UTF8.GetByteCount(arg);
            pos += WriteHeader(span[pos..], (byte)'$', length);
            pos += Encoding.UTF8.GetBytes(arg, span[pos..]);
            span[pos++] = (byte)'\r';
            span[pos++] = (byte)'\n';
        }

        return result;
    }

    /// <summary>Encodes binary arguments as one multibulk request into <paramref name="output"/>.</summary>
    public static void Encode(IBufferWriter<byte> output, IReadOnlyList<ReadOnlyMemory<byte>> args)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(args);
        WriteArrayHeader(output, args.Count);
        for (int i = 0; i < args.Count; i++) WriteBulk(output, args[i].Span);
    }

    /// <summary>"*count\r\n": the start of a request of <paramref name="count"/> arguments, written piece by piece.</summary>
    public static void WriteArrayHeader(IBufferWriter<byte> output, int count)
    {
        var span = output.GetSpan(RespNumbers.MaxInt64Length + 3);
        output.Advance(WriteHeader(span, (byte)'*', count));
    }

    /// <summary>One argument: "$len\r\nbytes\r\n".</summary>
    public static void WriteBulk(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        var span = output.GetSpan(BulkLength(value.Length));
        int at = WriteHeader(span, (byte)'$', value.Length);
        value.CopyTo(span[at..]);
        at += value.Length;
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        output.Advance(at);
    }

    /// <summary>One argument holding a number in decimal, as Redis clients send numbers.</summary>
    public static void WriteBulk(IBufferWriter<byte> output, long value)
    {
        Span<byte> digits = stackalloc byte[RespNumbers.MaxInt64Length];
        WriteBulk(output, digits[..RespNumbers.FormatInt64(value, digits)]);
    }

    /// <summary>The bytes <see cref="WriteBulk(IBufferWriter{byte}, ReadOnlySpan{byte})"/> writes for a value of <paramref name="length"/> bytes.</summary>
    public static int BulkLength(int length)
    {
        int digits = 1;
        for (int rest = length; rest >= 10; rest /= 10) digits++;
        return 1 + digits + 2 + length + 2;
    }

    private static int WriteHeader(Span<byte> span, byte marker, int value)
    {
        span[0] = marker;
        int pos = 1 + RespNumbers.FormatInt64(value, span[1..]);
        span[pos] = (byte)'\r';
        span[pos + 1] = (byte)'\n';
        return pos + 2;
    }
}
