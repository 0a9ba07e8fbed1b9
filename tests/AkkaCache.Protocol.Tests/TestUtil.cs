using System.Buffers;
using System.Text;

namespace AkkaCache.Protocol.Tests;

internal static class TestUtil
{
    /// <summary>Bytes of a string whose chars are all below 256 (so "\xff" is the byte 0xFF).</summary>
    public static byte[] B(string latin1) => Encoding.Latin1.GetBytes(latin1);

    public static string S(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static string[] Args(RespArguments args, ReadOnlySpan<byte> source)
    {
        var result = new string[args.Count];
        for (int i = 0; i < args.Count; i++)
        {
            result[i] = S(args.Get(source, i));
        }

        return result;
    }

    public static (RespParseStatus Status, int Consumed, string? Error, string[] Args) Parse(
        string input, RespRequestLimits? limits = null, RespArguments? args = null) =>
        Parse(B(input), limits, args);

    public static (RespParseStatus Status, int Consumed, string? Error, string[] Args) Parse(
        byte[] input, RespRequestLimits? limits = null, RespArguments? args = null)
    {
        args ??= new RespArguments();
        RespRequestLimits actual = limits ?? RespRequestLimits.Default;
        RespParseStatus status = RespRequestParser.TryParse(input, actual, args, out int consumed, out string? error);
        return (status, consumed, error, Args(args, input));
    }
}

/// <summary>
/// An IBufferWriter that hands out spans of at most <c>chunk</c> bytes (more only when a size hint demands it),
/// like a PipeWriter with small segments, so that chunked write paths are exercised.
/// </summary>
internal sealed class ChunkedBufferWriter(int chunk) : IBufferWriter<byte>
{
    private readonly List<byte> _written = [];
    private byte[] _current = [];

    public int GetSpanCalls { get; private set; }

    public byte[] WrittenBytes => [.. _written];

    public void Advance(int count)
    {
        if (count < 0 || count > _current.Length)
        {
            throw new InvalidOperationException("Advanced past the span.");
        }

        _written.AddRange(_current.AsSpan(0, count));
        _current = [];
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        GetSpanCalls++;
        _current = new byte[Math.Max(sizeHint, chunk)];

        // Garbage, so that a writer relying on zeroed memory would be caught.
        _current.AsSpan().Fill(0xCC);
        return _current;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
