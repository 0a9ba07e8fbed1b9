using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AkkaCache.Protocol;

/// <summary>
/// Parses client requests straight from the receive buffer, the way Redis's processMultibulkBuffer and
/// processInlineBuffer do, with the same error wording. Allocation-free on the multibulk path: arguments are
/// returned as ranges of the input (see <see cref="RespArguments"/>).
/// </summary>
public static class RespRequestParser
{
    /// <summary>"Protocol error: invalid multibulk length"</summary>
    public const string InvalidMultibulkLength = "Protocol error: invalid multibulk length";

    /// <summary>"Protocol error: invalid bulk length"</summary>
    public const string InvalidBulkLength = "Protocol error: invalid bulk length";

    /// <summary>"Protocol error: too big inline request"</summary>
    public const string TooBigInlineRequest = "Protocol error: too big inline request";

    /// <summary>"Protocol error: too big mbulk count string" (no CR within the inline limit after '*').</summary>
    public const string TooBigMultibulkCount = "Protocol error: too big mbulk count string";

    /// <summary>"Protocol error: too big bulk count string" (no CR within the inline limit after '$').</summary>
    public const string TooBigBulkCount = "Protocol error: too big bulk count string";

    /// <summary>"Protocol error: unbalanced quotes in request"</summary>
    public const string UnbalancedQuotes = "Protocol error: unbalanced quotes in request";

    private enum Header
    {
        Valid,       // a whole line whose number string2ll accepts
        Invalid,     // a whole line whose number string2ll rejects
        Incomplete,  // no CR yet, or no byte after the CR yet
        TooBig,      // no CR within the limit
    }

    /// <summary>
    /// Parses ONE request from the start of <paramref name="input"/>: a RESP multibulk ("*N\r\n$len\r\n...\r\n")
    /// when the first byte is '*', otherwise an inline command line ("SET a b\r\n") split on blanks with
    /// redis-cli/sdssplitargs quoting: "..." with \n \r \t \b \a \\ \" \xHH escapes, and '...' with \'.
    /// </summary>
    /// <returns>
    /// <see cref="RespParseStatus.Complete"/>: <paramref name="args"/> holds the command and
    /// <paramref name="consumed"/> its length; a Count of 0 ("*0\r\n", "*-1\r\n", an empty line) is a request
    /// to skip. <see cref="RespParseStatus.Incomplete"/>: more bytes are needed (consumed = 0); call again with
    /// the same bytes from the same start plus what arrived — the parse resumes where it stopped (see
    /// <see cref="RespArguments"/>). <see cref="RespParseStatus.Error"/>: <paramref name="error"/> is Redis's
    /// message without the "-ERR " prefix; the server replies "-ERR message" and closes the connection.
    /// </returns>
    /// <remarks>
    /// <para>Behaviour matches Redis 7 byte for byte, including its leniencies:</para>
    /// <list type="bullet">
    /// <item>A multibulk count &lt;= 0 (any negative, not only -1) is an empty request, as in Redis; counts
    /// above <see cref="RespRequestLimits.MaxArguments"/> or not accepted by string2ll ("*01", "*-0", "*+1")
    /// are "invalid multibulk length".</item>
    /// <item>A bulk length that is negative, malformed or above <see cref="RespRequestLimits.MaxBulkLength"/>
    /// is "invalid bulk length"; anything but '$' where a bulk header belongs is "expected '$', got 'c'"
    /// (CR/LF shown as a space), reported once that header line is complete.</item>
    /// <item>The byte after each header's CR and the two bytes after bulk data are skipped without checking
    /// that they are LF / CRLF, exactly as Redis does.</item>
    /// <item>A header line with no CR within <see cref="RespRequestLimits.MaxInlineLength"/> bytes is "too big
    /// mbulk count string" / "too big bulk count string".</item>
    /// <item>Inline: a line longer than MaxInlineLength before its LF is "too big inline request" — also when
    /// its LF has already arrived (Redis only checks while the LF is missing, which makes its outcome depend on
    /// how the bytes were chunked). A trailing CR is dropped; a NUL byte ends the line's arguments, as in
    /// sdssplitargs; an unterminated quote or a closing quote followed by anything but a blank is "unbalanced
    /// quotes in request".</item>
    /// </list>
    /// </remarks>
    public static RespParseStatus TryParse(
        ReadOnlySpan<byte> input,
        in RespRequestLimits limits,
        RespArguments args,
        out int consumed,
        out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        consumed = 0;
        error = null;
        args.ResetForParse();
        if (input.IsEmpty)
        {
            args.PendingKind = 0;
            return RespParseStatus.Incomplete;
        }

        return input[0] == (byte)'*'
            ? ParseMultibulk(input, limits, args, out consumed, out error)
            : ParseInline(input, limits, args, out consumed, out error);
    }

    private static RespParseStatus ParseMultibulk(
        ReadOnlySpan<byte> input,
        in RespRequestLimits limits,
        RespArguments args,
        out int consumed,
        out string? error)
    {
        consumed = 0;
        error = null;
        int argc;
        int parsed;
        int pos;
        if (args.PendingKind == RespArguments.PendingMultibulk && args.PendingPosition <= input.Length)
        {
            // Resume after the last argument that was complete on the previous call.
            argc = args.PendingDeclared;
            parsed = args.PendingParsed;
            pos = args.PendingPosition;
        }
        else
        {
            switch (ReadHeader(input, 0, limits.MaxInlineLength, out long count, out int next))
            {
                case Header.Valid:
                    break;
                case Header.Incomplete:
                    args.PendingKind = 0;
                    return RespParseStatus.Incomplete;
                case Header.TooBig:
                    return Fail(args, TooBigMultibulkCount, out error);
                default:
                    return Fail(args, InvalidMultibulkLength, out error);
            }

            if (count > limits.MaxArguments)
            {
                return Fail(args, InvalidMultibulkLength, out error);
            }

            if (count <= 0)
            {
                args.Complete(0, owned: false);
                consumed = next;
                return RespParseStatus.Complete;
            }

            argc = (int)count;
            parsed = 0;
            pos = next;
        }

        int length = input.Length;
        ref byte origin = ref MemoryMarshal.GetReference(input);
        (int Offset, int Length)[] ranges = args.Ranges;
        int maxBulk = limits.MaxBulkLength;
        while (parsed < argc)
        {
            if ((uint)parsed >= (uint)ranges.Length)
            {
                ranges = args.Grow(parsed);
            }

            // Fast path, the shape of nearly every argument: "$" then a length of 1-9 digits without a leading
            // zero (or exactly "0"), then CR and at least one more byte. Reads are unchecked; every index below
            // is proven < length by the conditions guarding it.
            if (length - pos >= 4 && Unsafe.Add(ref origin, pos) == (byte)'$')
            {
                uint bulk = (uint)(Unsafe.Add(ref origin, pos + 1) - '0');
                if (bulk <= 9)
                {
                    int p = pos + 2;
                    if (bulk != 0)
                    {
                        // At most 9 digits in total, so the value fits a uint without overflow checks.
                        int end = Math.Min(length, pos + 10);
                        uint digit;
                        while (p < end && (digit = (uint)(Unsafe.Add(ref origin, p) - '0')) <= 9)
                        {
                            bulk = (bulk * 10) + digit;
                            p++;
                        }
                    }

                    // A "0" must be the whole number ("$01" goes to the general path, which rejects it).
                    if (p + 1 < length && Unsafe.Add(ref origin, p) == (byte)'\r')
                    {
                        if (bulk > (uint)maxBulk)
                        {
                            return Fail(args, InvalidBulkLength, out error);
                        }

                        int data = p + 2;
                        if ((long)length - data < (long)bulk + 2)
                        {
                            goto Incomplete;
                        }

                        ranges[parsed] = (data, (int)bulk);
                        parsed++;
                        pos = data + (int)bulk + 2;
                        continue;
                    }
                }
            }

            // General path: incomplete headers, malformed input, huge lengths; reproduces Redis's outcome.
            if (pos >= length)
            {
                goto Incomplete;
            }

            Header header = ReadHeader(input, pos, limits.MaxInlineLength, out long bulkLength, out int dataStart);
            if (header == Header.Incomplete)
            {
                goto Incomplete;
            }

            if (header == Header.TooBig)
            {
                return Fail(args, TooBigBulkCount, out error);
            }

            // Redis looks at the marker only once the header line is complete.
            if (input[pos] != (byte)'$')
            {
                return Fail(args, ExpectedDollar(input[pos]), out error);
            }

            if (header != Header.Valid || bulkLength < 0 || bulkLength > limits.MaxBulkLength)
            {
                return Fail(args, InvalidBulkLength, out error);
            }

            // Only compare lengths: a large value that has not fully arrived is never scanned.
            if (length - dataStart < bulkLength + 2)
            {
                goto Incomplete;
            }

            ranges[parsed] = (dataStart, (int)bulkLength);
            parsed++;
            pos = dataStart + (int)bulkLength + 2;
        }

        args.Complete(argc, owned: false);
        consumed = pos;
        return RespParseStatus.Complete;

    Incomplete:
        args.PendingKind = RespArguments.PendingMultibulk;
        args.PendingDeclared = argc;
        args.PendingParsed = parsed;
        args.PendingPosition = pos;
        return RespParseStatus.Incomplete;
    }

    // Reads a "*<n>\r?" or "$<n>\r?" line starting at `start` (the marker byte, which the caller checks).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Header ReadHeader(ReadOnlySpan<byte> input, int start, int maxLine, out long value, out int next)
    {
        // Fast path for what clients actually send: a plain positive number (or "0") followed by CR and at
        // least one more byte. Anything else (negative, leading zeros, junk, too long, incomplete) goes through
        // the general path, which reproduces Redis's exact outcome.
        int p = start + 1;
        if ((uint)(p + 2) < (uint)input.Length)
        {
            uint first = (uint)(input[p] - '0');
            if (first - 1 <= 8)
            {
                long number = first;
                int end = Math.Min(input.Length, p + 18);
                p++;
                while (p < end)
                {
                    uint digit = (uint)(input[p] - '0');
                    if (digit > 9)
                    {
                        break;
                    }

                    number = (number * 10) + digit;
                    p++;
                }

                if (p + 1 < input.Length && input[p] == (byte)'\r')
                {
                    value = number;
                    next = p + 2;
                    return Header.Valid;
                }
            }
            else if (first == 0 && input[p + 1] == (byte)'\r')
            {
                value = 0;
                next = p + 3;
                return Header.Valid;
            }
        }

        return ReadHeaderSlow(input, start, maxLine, out value, out next);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Header ReadHeaderSlow(ReadOnlySpan<byte> input, int start, int maxLine, out long value, out int next)
    {
        value = 0;
        next = 0;

        // Like Redis's strchr, the search includes the marker byte itself: a CR in the marker position makes a
        // complete (and, for '$', wrong) line.
        int cr = input[start..].IndexOf((byte)'\r');
        if (cr < 0)
        {
            return input.Length - start > maxLine ? Header.TooBig : Header.Incomplete;
        }

        cr += start;
        if (cr + 1 >= input.Length)
        {
            return Header.Incomplete;
        }

        next = cr + 2;
        if (cr == start)
        {
            return Header.Invalid;
        }

        return RespNumbers.TryParseInt64(input[(start + 1)..cr], out value) ? Header.Valid : Header.Invalid;
    }

    private static RespParseStatus ParseInline(
        ReadOnlySpan<byte> input,
        in RespRequestLimits limits,
        RespArguments args,
        out int consumed,
        out string? error)
    {
        consumed = 0;
        error = null;

        // Only the first MaxInlineLength + 1 bytes can hold an acceptable line's LF. Bytes already searched on an
        // earlier Incomplete call are not searched again.
        int window = (int)Math.Min(input.Length, (long)limits.MaxInlineLength + 1);
        int scanFrom = args.PendingKind == RespArguments.PendingInline && args.PendingPosition <= window
            ? args.PendingPosition
            : 0;
        int newline = input[scanFrom..window].IndexOf((byte)'\n');
        if (newline < 0)
        {
            if (input.Length > limits.MaxInlineLength)
            {
                return Fail(args, TooBigInlineRequest, out error);
            }

            args.PendingKind = RespArguments.PendingInline;
            args.PendingPosition = window;
            return RespParseStatus.Incomplete;
        }

        newline += scanFrom;
        int lineEnd = newline;
        if (lineEnd > 0 && input[lineEnd - 1] == (byte)'\r')
        {
            lineEnd--;
        }

        ReadOnlySpan<byte> line = input[..lineEnd];

        // sdssplitargs works on a C string: a NUL ends the arguments.
        int nul = line.IndexOf((byte)0);
        if (nul >= 0)
        {
            line = line[..nul];
        }

        if (!SplitInline(line, args, out int argc))
        {
            return Fail(args, UnbalancedQuotes, out error);
        }

        args.Complete(argc, owned: true);
        consumed = newline + 1;
        return RespParseStatus.Complete;
    }

    // Splits an inline line like Redis's sdssplitargs, decoding into the arguments' owned buffer (decoded output
    // is never longer than the input, so one buffer of the line's length suffices).
    private static bool SplitInline(ReadOnlySpan<byte> line, RespArguments args, out int argc)
    {
        argc = 0;
        byte[] output = args.OwnedBuffer(line.Length);
        int n = line.Length;
        int p = 0;
        int written = 0;
        while (true)
        {
            while (p < n && IsCSpace(line[p]))
            {
                p++;
            }

            if (p >= n)
            {
                return true;
            }

            int start = written;
            bool inDoubleQuotes = false;
            bool inSingleQuotes = false;
            bool done = false;
            while (!done)
            {
                // Past the end reads as the C string's terminating NUL.
                byte c = At(line, p);
                if (inDoubleQuotes)
                {
                    if (c == (byte)'\\' && At(line, p + 1) == (byte)'x'
                        && IsHex(At(line, p + 2)) && IsHex(At(line, p + 3)))
                    {
                        output[written++] = (byte)((HexDigit(line[p + 2]) << 4) | HexDigit(line[p + 3]));
                        p += 3;
                    }
                    else if (c == (byte)'\\' && At(line, p + 1) != 0)
                    {
                        p++;
                        output[written++] = line[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            byte other => other,
                        };
                    }
                    else if (c == (byte)'"')
                    {
                        // The closing quote must be followed by a blank or the end of the line.
                        byte following = At(line, p + 1);
                        if (following != 0 && !IsCSpace(following))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else if (c == 0)
                    {
                        return false;
                    }
                    else
                    {
                        output[written++] = c;
                    }
                }
                else if (inSingleQuotes)
                {
                    if (c == (byte)'\\' && At(line, p + 1) == (byte)'\'')
                    {
                        p++;
                        output[written++] = (byte)'\'';
                    }
                    else if (c == (byte)'\'')
                    {
                        byte following = At(line, p + 1);
                        if (following != 0 && !IsCSpace(following))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else if (c == 0)
                    {
                        return false;
                    }
                    else
                    {
                        output[written++] = c;
                    }
                }
                else
                {
                    switch (c)
                    {
                        // Only these end an unquoted token (not \v or \f, which isspace would include).
                        case (byte)' ':
                        case (byte)'\n':
                        case (byte)'\r':
                        case (byte)'\t':
                        case 0:
                            done = true;
                            break;
                        case (byte)'"':
                            inDoubleQuotes = true;
                            break;
                        case (byte)'\'':
                            inSingleQuotes = true;
                            break;
                        default:
                            output[written++] = c;
                            break;
                    }
                }

                if (p < n)
                {
                    p++;
                }
            }

            args.Set(argc++, start, written - start);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte At(ReadOnlySpan<byte> line, int index) => (uint)index < (uint)line.Length ? line[index] : (byte)0;

    // C's isspace in the "C" locale.
    private static bool IsCSpace(byte c) => c == (byte)' ' || (uint)(c - '\t') <= '\r' - '\t';

    private static bool IsHex(byte c) => (uint)(c - '0') <= 9 || (uint)((c | 0x20) - 'a') <= 5;

    private static int HexDigit(byte c) => (uint)(c - '0') <= 9 ? c - '0' : (c | 0x20) - 'a' + 10;

    private static string ExpectedDollar(byte got)
    {
        // Redis's addReplyErrorFormat turns CR and LF into spaces so the reply stays one line.
        char shown = got == (byte)'\r' || got == (byte)'\n' ? ' ' : (char)got;
        return "Protocol error: expected '$', got '" + shown + "'";
    }

    private static RespParseStatus Fail(RespArguments args, string message, out string? error)
    {
        args.PendingKind = 0;
        error = message;
        return RespParseStatus.Error;
    }
}
