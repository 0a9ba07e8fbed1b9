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

        // The writer speaks the same framing for headers and bulk payloads; the version does not matter.
        var writer = new RespWriter(output, RespVersion.Resp2);
        writer.WriteArrayHeader(args.Count);
        for (int i = 0; i < args.Count; i++)
        {
            writer.WriteBulkString(args[i].Span);
        }
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
