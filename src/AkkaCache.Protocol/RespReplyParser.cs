using System.Text;

namespace AkkaCache.Protocol;

/// <summary>
/// Parses replies (client side) into <see cref="RespValue"/> trees. Allocates freely; not for the server's hot
/// path. Supports every RESP2 and RESP3 type: + - : $ * _ , # ( ! = % ~ &gt; and attributes ("|"), which are
/// parsed and skipped (the value they annotate is returned). Streamed RESP3 strings and aggregates
/// ("$?", "*?", ";", ".") are not supported and reported as an error.
/// </summary>
public static class RespReplyParser
{
    /// <summary>Deepest accepted nesting of aggregates (protects the stack from hostile input).</summary>
    public const int MaxDepth = 512;

    // Every RESP element takes at least 3 bytes ("_\r\n"), which bounds how many can fit in the input: an
    // aggregate announcing more than that is incomplete before anything is allocated for it.
    private const int MinElementLength = 3;

    /// <summary>
    /// Parses one reply from the start of <paramref name="input"/>. Complete: <paramref name="value"/> is set
    /// and <paramref name="consumed"/> is its length. Incomplete: more bytes are needed. Error: malformed
    /// input, described by <paramref name="error"/>.
    /// </summary>
    public static RespParseStatus TryParse(ReadOnlySpan<byte> input, out RespValue? value, out int consumed, out string? error)
    {
        int pos = 0;
        RespParseStatus status = ParseValue(input, ref pos, 0, out value, out error);
        if (status != RespParseStatus.Complete)
        {
            value = null;
            consumed = 0;
            return status;
        }

        consumed = pos;
        return status;
    }

    private static RespParseStatus ParseValue(ReadOnlySpan<byte> input, ref int pos, int depth, out RespValue? value, out string? error)
    {
        value = null;
        error = null;
        if (depth > MaxDepth)
        {
            error = "Protocol error: nesting too deep";
            return RespParseStatus.Error;
        }

        while (true)
        {
            if (pos >= input.Length)
            {
                return RespParseStatus.Incomplete;
            }

            byte marker = input[pos];
            RespParseStatus status = ReadLine(input, pos + 1, out int lineStart, out int lineEnd, out error);
            if (status != RespParseStatus.Complete)
            {
                return status;
            }

            ReadOnlySpan<byte> line = input[lineStart..lineEnd];
            int next = lineEnd + 2;
            switch (marker)
            {
                case (byte)'+':
                    value = RespValue.Create(RespType.SimpleString, line.ToArray());
                    pos = next;
                    return RespParseStatus.Complete;

                case (byte)'-':
                    value = RespValue.Create(RespType.Error, line.ToArray());
                    pos = next;
                    return RespParseStatus.Complete;

                case (byte)':':
                    if (!RespNumbers.TryParseInt64(line, out long integer))
                    {
                        return Fail("Protocol error: invalid integer", out error);
                    }

                    value = RespValue.FromInteger(integer);
                    pos = next;
                    return RespParseStatus.Complete;

                case (byte)'_':
                    if (!line.IsEmpty)
                    {
                        return Fail("Protocol error: invalid null", out error);
                    }

                    value = RespValue.Null;
                    pos = next;
                    return RespParseStatus.Complete;

                case (byte)',':
                    if (!TryParseRespDouble(line, out double number))
                    {
                        return Fail("Protocol error: invalid double", out error);
                    }

                    value = RespValue.FromDouble(number);
                    pos = next;
                    return RespParseStatus.Complete;

                case (byte)'#':
                    if (line.Length != 1 || (line[0] != (byte)'t' && line[0] != (byte)'f'))
                    {
                        return Fail("Protocol error: invalid boolean", out error);
                    }

                    value = RespValue.FromBoolean(line[0] == (byte)'t');
                    pos = next;
                    return RespParseStatus.Complete;

                case (byte)'(':
                    if (!IsBigNumber(line))
                    {
                        return Fail("Protocol error: invalid big number", out error);
                    }

                    value = RespValue.Create(RespType.BigNumber, line.ToArray());
                    pos = next;
                    return RespParseStatus.Complete;

                case (byte)'$':
                case (byte)'!':
                case (byte)'=':
                    return ParseBlob(input, marker, line, next, ref pos, out value, out error);

                case (byte)'*':
                case (byte)'~':
                case (byte)'>':
                case (byte)'%':
                    return ParseAggregate(input, marker, line, next, ref pos, depth, out value, out error);

                case (byte)'|':
                {
                    // Attribute: a map of metadata that precedes the real reply. Parse it (to find its end) and
                    // drop it, then continue with the reply it annotates.
                    if (!TryParseCount(line, out long pairs, out error))
                    {
                        return RespParseStatus.Error;
                    }

                    int cursor = next;
                    for (long i = 0; i < pairs * 2; i++)
                    {
                        status = ParseValue(input, ref cursor, depth + 1, out _, out error);
                        if (status != RespParseStatus.Complete)
                        {
                            return status;
                        }
                    }

                    pos = cursor;
                    continue;
                }

                default:
                    char shown = marker is (byte)'\r' or (byte)'\n' ? ' ' : (char)marker;
                    return Fail("Protocol error: unexpected type byte '" + shown + "'", out error);
            }
        }
    }

    private static RespParseStatus ParseBlob(ReadOnlySpan<byte> input, byte marker, ReadOnlySpan<byte> line, int next,
        ref int pos, out RespValue? value, out string? error)
    {
        value = null;
        error = null;
        if (line.SequenceEqual("?"u8))
        {
            return Fail("Protocol error: streamed RESP3 strings are not supported", out error);
        }

        if (!RespNumbers.TryParseInt64(line, out long length))
        {
            return Fail("Protocol error: invalid bulk length", out error);
        }

        if (length == -1 && marker == (byte)'$')
        {
            value = RespValue.Null;
            pos = next;
            return RespParseStatus.Complete;
        }

        if (length < 0 || length > int.MaxValue - 2)
        {
            return Fail("Protocol error: invalid bulk length", out error);
        }

        if (input.Length - next < length + 2)
        {
            return RespParseStatus.Incomplete;
        }

        int end = next + (int)length;
        if (input[end] != (byte)'\r' || input[end + 1] != (byte)'\n')
        {
            return Fail("Protocol error: bulk data not terminated by CRLF", out error);
        }

        ReadOnlySpan<byte> payload = input[next..end];
        switch (marker)
        {
            case (byte)'$':
                value = RespValue.Create(RespType.BulkString, payload.ToArray());
                break;
            case (byte)'!':
                value = RespValue.Create(RespType.Error, payload.ToArray());
                break;
            default:
                if (payload.Length < 4 || payload[3] != (byte)':')
                {
                    return Fail("Protocol error: invalid verbatim string", out error);
                }

                value = RespValue.Create(RespType.Verbatim, payload[4..].ToArray(), Encoding.UTF8.GetString(payload[..3]));
                break;
        }

        pos = end + 2;
        return RespParseStatus.Complete;
    }

    private static RespParseStatus ParseAggregate(ReadOnlySpan<byte> input, byte marker, ReadOnlySpan<byte> line,
        int next, ref int pos, int depth, out RespValue? value, out string? error)
    {
        value = null;
        if (line.SequenceEqual("?"u8))
        {
            return Fail("Protocol error: streamed RESP3 aggregates are not supported", out error);
        }

        if (marker == (byte)'*' && line.SequenceEqual("-1"u8))
        {
            value = RespValue.Null;
            pos = next;
            error = null;
            return RespParseStatus.Complete;
        }

        if (!TryParseCount(line, out long count, out error))
        {
            return RespParseStatus.Error;
        }

        long elements = marker == (byte)'%' ? count * 2 : count;
        if (elements > (input.Length - next) / MinElementLength)
        {
            return RespParseStatus.Incomplete;
        }

        RespType type = marker switch
        {
            (byte)'*' => RespType.Array,
            (byte)'~' => RespType.Set,
            (byte)'>' => RespType.Push,
            _ => RespType.Map,
        };

        List<RespValue>? items = elements == 0 ? null : new List<RespValue>((int)elements);
        int cursor = next;
        for (long i = 0; i < elements; i++)
        {
            RespParseStatus status = ParseValue(input, ref cursor, depth + 1, out RespValue? item, out error);
            if (status != RespParseStatus.Complete)
            {
                return status;
            }

            items!.Add(item!);
        }

        value = RespValue.Aggregate(type, items);
        pos = cursor;
        return RespParseStatus.Complete;
    }

    // A line is everything up to CRLF; a CR followed by anything else is malformed.
    private static RespParseStatus ReadLine(ReadOnlySpan<byte> input, int start, out int lineStart, out int lineEnd, out string? error)
    {
        lineStart = start;
        lineEnd = 0;
        error = null;
        if (start > input.Length)
        {
            return RespParseStatus.Incomplete;
        }

        int cr = input[start..].IndexOf((byte)'\r');
        if (cr < 0)
        {
            return RespParseStatus.Incomplete;
        }

        cr += start;
        if (cr + 1 >= input.Length)
        {
            return RespParseStatus.Incomplete;
        }

        if (input[cr + 1] != (byte)'\n')
        {
            return Fail("Protocol error: expected CRLF", out error);
        }

        lineEnd = cr;
        return RespParseStatus.Complete;
    }

    private static bool TryParseCount(ReadOnlySpan<byte> line, out long count, out string? error)
    {
        error = null;
        if (!RespNumbers.TryParseInt64(line, out count) || count < 0)
        {
            error = "Protocol error: invalid aggregate length";
            return false;
        }

        return true;
    }

    private static bool TryParseRespDouble(ReadOnlySpan<byte> line, out double value)
    {
        // RESP3 spells the special values "inf", "-inf" and "nan"; be lenient about case and a sign on nan.
        if (Ascii.EqualsIgnoreCase(line, "nan"u8) || Ascii.EqualsIgnoreCase(line, "-nan"u8))
        {
            value = double.NaN;
            return true;
        }

        return RespNumbers.TryParseDouble(line, out value);
    }

    private static bool IsBigNumber(ReadOnlySpan<byte> line)
    {
        if (!line.IsEmpty && (line[0] == (byte)'-' || line[0] == (byte)'+'))
        {
            line = line[1..];
        }

        return !line.IsEmpty && !line.ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }

    private static RespParseStatus Fail(string message, out string? error)
    {
        error = message;
        return RespParseStatus.Error;
    }
}
