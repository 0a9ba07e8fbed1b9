namespace AkkaCache.Protocol;

/// <summary>The protocol generation a connection speaks (switched with HELLO).</summary>
public enum RespVersion
{
    /// <summary>RESP2: maps, sets, pushes, doubles and booleans are sent with RESP2 shapes.</summary>
    Resp2 = 2,

    /// <summary>RESP3: native maps, sets, pushes, nulls, doubles, booleans, verbatim strings, big numbers.</summary>
    Resp3 = 3,
}

/// <summary>Limits applied while parsing requests.</summary>
/// <param name="MaxBulkLength">Largest accepted bulk argument in bytes; longer is "invalid bulk length".</param>
/// <param name="MaxArguments">Largest accepted multibulk count; larger is "invalid multibulk length".</param>
/// <param name="MaxInlineLength">
/// Longest inline command line (excluding its line terminator), and longest "*"/"$" header line
/// that may be buffered while waiting for its CR (Redis's PROTO_INLINE_MAX_SIZE).
/// </param>
public readonly record struct RespRequestLimits(int MaxBulkLength, int MaxArguments, int MaxInlineLength)
{
    /// <summary>1 MB values (the design's default), 1M arguments, 64 KB inline lines.</summary>
    public static RespRequestLimits Default => new(1024 * 1024, 1024 * 1024, 64 * 1024);
}

/// <summary>Outcome of a parse attempt.</summary>
public enum RespParseStatus
{
    /// <summary>One whole frame was parsed; <c>consumed</c> says how many bytes it used.</summary>
    Complete,

    /// <summary>The input ends inside a frame: read more bytes and call again with the same start.</summary>
    Incomplete,

    /// <summary>The input is malformed; the connection cannot be resynchronised.</summary>
    Error,
}
