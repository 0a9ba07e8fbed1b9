using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace AkkaCache.Protocol;

/// <summary>
/// Number parsing and formatting with Redis's rules, straight on UTF-8 bytes (no strings).
/// </summary>
public static class RespNumbers
{
    /// <summary>Longest output of <see cref="FormatInt64"/>: "-9223372036854775808".</summary>
    public const int MaxInt64Length = 20;

    /// <summary>
    /// Destination size that always suffices for <see cref="FormatDoubleReply"/>
    /// (sign, 17 digits, point, "e+308").
    /// </summary>
    public const int MaxDoubleReplyLength = 32;

    /// <summary>
    /// Destination size that always suffices for <see cref="FormatDouble"/>: the "human" format never uses an
    /// exponent, so double.MaxValue prints as 309 integer digits (plus sign; fractions have at most 17 digits
    /// and only occur when the integer part is short).
    /// </summary>
    public const int MaxDoubleLength = 330;

    // Redis's string2ld copies into a 5 KB stack buffer (MAX_LONG_DOUBLE_CHARS) and rejects anything that does
    // not fit including its terminator.
    private const int MaxDoubleInputLength = 5 * 1024;

    // 2^62: Redis's double2ll only takes the integer printing path inside +-(LLONG_MAX / 2) (as a double).
    private const double IntegerPathLimit = 4611686018427387904.0;

    /// <summary>
    /// Parses a signed 64-bit integer exactly like Redis's string2ll: optional '-', then "0" or a digit 1-9
    /// followed by digits; nothing else. Rejects "", "+1", " 1", "1 ", "007", "-0", "-" and overflow.
    /// </summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        int length = text.Length;

        // string2ll refuses empty input and anything of LONG_STR_SIZE (21) characters or more up front.
        if ((uint)(length - 1) >= 20u)
        {
            return false;
        }

        int i = 0;
        bool negative = false;
        if (text[0] == (byte)'-')
        {
            negative = true;
            i = 1;
            if (length == 1)
            {
                return false;
            }
        }

        uint first = (uint)(text[i] - '0');
        if (first == 0)
        {
            // "0" is the only number allowed to start with a zero ("-0" and "01" are invalid).
            if (length == 1)
            {
                return true;
            }

            return false;
        }

        if (first > 9)
        {
            return false;
        }

        // At most 20 characters: a negative number has at most 19 digits, which fits in a ulong without
        // overflow checks; a positive one with 20 digits is >= 1e19 > long.MaxValue, so reject it here and the
        // accumulation below can never overflow.
        if (length - i > 19)
        {
            return false;
        }

        ulong accumulator = first;
        for (i++; i < length; i++)
        {
            uint digit = (uint)(text[i] - '0');
            if (digit > 9)
            {
                return false;
            }

            accumulator = (accumulator * 10) + digit;
        }

        if (negative)
        {
            if (accumulator > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = unchecked((long)(0 - accumulator));
        }
        else
        {
            if (accumulator > long.MaxValue)
            {
                return false;
            }

            value = (long)accumulator;
        }

        return true;
    }

    /// <summary>
    /// Parses a floating point number the way Redis's string2d/string2ld (strtod/strtold) accept it:
    /// optional sign; decimal digits with an optional '.' and optional exponent ("1", "-1.5", ".5", "5.",
    /// "1e3", "2.0E-2"); hexadecimal floats ("0x1p4", "0x1.8"); "inf"/"infinity" in any case.
    /// Rejects: empty input, any whitespace (leading or trailing), trailing garbage, "nan", results that
    /// overflow to infinity or underflow to zero (strtod's ERANGE), and inputs of 5 KB or more.
    /// </summary>
    /// <remarks>
    /// Infinity is accepted because Redis accepts it where scores may be infinite (ZADD "+inf"); commands such
    /// as INCRBYFLOAT must reject infinite inputs or results themselves. The range is that of a double:
    /// Redis parses INCRBYFLOAT operands as an 80-bit long double, so it also accepts e.g. "1e400", which is
    /// rejected here as an overflow.
    /// </remarks>
    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.IsEmpty || text.Length >= MaxDoubleInputLength)
        {
            return false;
        }

        int i = 0;
        bool negative = false;
        if (text[0] == (byte)'-' || text[0] == (byte)'+')
        {
            negative = text[0] == (byte)'-';
            i = 1;
            if (text.Length == 1)
            {
                return false;
            }
        }

        ReadOnlySpan<byte> body = text[i..];
        byte lead = body[0];
        if ((lead | 0x20) == 'i')
        {
            if (Ascii.EqualsIgnoreCase(body, "inf"u8) || Ascii.EqualsIgnoreCase(body, "infinity"u8))
            {
                value = negative ? double.NegativeInfinity : double.PositiveInfinity;
                return true;
            }

            return false;
        }

        if (lead == (byte)'0' && body.Length > 1 && (body[1] | 0x20) == 'x')
        {
            return TryParseHexDouble(body[2..], negative, out value);
        }

        // Validate strtod's decimal grammar ourselves: .NET's parser also tolerates white space, thousands
        // separators etc. depending on the style, and we need to know whether any mantissa digit was non-zero
        // to detect underflow.
        int j = 0;
        int digits = 0;
        bool nonZero = false;
        while (j < body.Length && (uint)(body[j] - '0') <= 9)
        {
            nonZero |= body[j] != (byte)'0';
            j++;
            digits++;
        }

        if (j < body.Length && body[j] == (byte)'.')
        {
            j++;
            while (j < body.Length && (uint)(body[j] - '0') <= 9)
            {
                nonZero |= body[j] != (byte)'0';
                j++;
                digits++;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        if (j < body.Length && (body[j] | 0x20) == 'e')
        {
            j++;
            if (j < body.Length && (body[j] == (byte)'+' || body[j] == (byte)'-'))
            {
                j++;
            }

            int exponentStart = j;
            while (j < body.Length && (uint)(body[j] - '0') <= 9)
            {
                j++;
            }

            if (j == exponentStart)
            {
                return false;
            }
        }

        if (j != body.Length)
        {
            return false;
        }

        // .NET's parser is correctly rounded and returns +-infinity on overflow.
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }

        if (double.IsInfinity(value) || (value == 0 && nonZero))
        {
            value = 0;
            return false;
        }

        return true;
    }

    // Parses the part after "0x": hex digits with an optional '.', then an optional binary exponent "p[+-]d+".
    private static bool TryParseHexDouble(ReadOnlySpan<byte> text, bool negative, out double value)
    {
        value = 0;
        ulong mantissa = 0;
        int binaryExponent = 0;
        bool sticky = false;
        bool anyDigit = false;
        bool seenPoint = false;
        int i = 0;
        for (; i < text.Length; i++)
        {
            byte c = text[i];
            if (c == (byte)'.')
            {
                if (seenPoint)
                {
                    break;
                }

                seenPoint = true;
                continue;
            }

            int digit = HexValue(c);
            if (digit < 0)
            {
                break;
            }

            anyDigit = true;
            if (mantissa >> 60 == 0)
            {
                mantissa = (mantissa << 4) | (uint)digit;
                if (seenPoint)
                {
                    binaryExponent -= 4;
                }
            }
            else
            {
                // 64 bits of mantissa are kept; further digits only matter for rounding (sticky) and scale.
                sticky |= digit != 0;
                if (!seenPoint)
                {
                    binaryExponent += 4;
                }
            }
        }

        if (!anyDigit)
        {
            return false;
        }

        if (i < text.Length)
        {
            if ((text[i] | 0x20) != 'p')
            {
                return false;
            }

            i++;
            bool negativeExponent = false;
            if (i < text.Length && (text[i] == (byte)'+' || text[i] == (byte)'-'))
            {
                negativeExponent = text[i] == (byte)'-';
                i++;
            }

            int start = i;
            int exponent = 0;
            for (; i < text.Length && (uint)(text[i] - '0') <= 9; i++)
            {
                // Clamp: anything beyond +-100000 overflows or underflows anyway.
                if (exponent < 100_000)
                {
                    exponent = (exponent * 10) + (text[i] - '0');
                }
            }

            if (i == start || i != text.Length)
            {
                return false;
            }

            binaryExponent += negativeExponent ? -exponent : exponent;
        }

        bool nonZero = mantissa != 0 || sticky;

        // The sticky bit sits far below the 53 bits a double keeps (the mantissa holds >= 61 significant bits
        // whenever digits were dropped), so the ulong->double conversion still rounds correctly.
        if (sticky)
        {
            mantissa |= 1;
        }

        double result = Math.ScaleB(mantissa, binaryExponent);
        if (double.IsInfinity(result) || (result == 0 && nonZero))
        {
            return false;
        }

        value = negative ? -result : result;
        return true;
    }

    private static int HexValue(byte c)
    {
        if ((uint)(c - '0') <= 9)
        {
            return c - '0';
        }

        int lower = c | 0x20;
        if ((uint)(lower - 'a') <= 5)
        {
            return lower - 'a' + 10;
        }

        return -1;
    }

    /// <summary>Formats <paramref name="value"/> in decimal; returns the number of bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than the result.</exception>
    public static int FormatInt64(long value, Span<byte> destination)
    {
        // Single digits (0-9) are by far the most common reply integers (counts, flags, booleans).
        if ((ulong)value < 10 && !destination.IsEmpty)
        {
            destination[0] = (byte)('0' + value);
            return 1;
        }

        if (!Utf8Formatter.TryFormat(value, destination, out int written))
        {
            ThrowDestinationTooSmall();
        }

        return written;
    }

    /// <summary>
    /// Formats a double for INCRBYFLOAT-style results (Redis's ld2string in "human" mode): plain decimal
    /// notation, never an exponent, at most 17 fractional digits, no trailing zeros, "-0" printed as "0".
    /// 10.5 + 0.1 => "10.6", 3.0e3 => "3000", 1e20 => "100000000000000000000", 1e-20 => "0".
    /// Infinities print as "inf"/"-inf" and NaN as "nan" (INCRBYFLOAT refuses to store those).
    /// </summary>
    /// <remarks>
    /// Redis computes in 80-bit long double and prints that with "%.17Lf", which exposes the long double's
    /// error for larger values ("1234.1" comes back as "1234.09999999999999998") but hides the error of small
    /// sums (0.1 + 0.2 prints "0.3"). A double cannot reproduce that, so this starts from the shortest decimal
    /// that round-trips to the double instead: 1234.1 stays "1234.1", while 0.1 + 0.2 computed in double prints
    /// "0.30000000000000004". Needs at most <see cref="MaxDoubleLength"/> bytes.
    /// </remarks>
    /// <exception cref="ArgumentException">The destination is shorter than the result.</exception>
    public static int FormatDouble(double value, Span<byte> destination)
    {
        if (!double.IsFinite(value))
        {
            return WriteNonFinite(value, destination);
        }

        if (value == 0)
        {
            return WriteAscii("0"u8, destination);
        }

        Span<byte> digits = stackalloc byte[32];
        int count = ShortestDigits(value, digits, out int point);

        // value = 0.d1d2...dn * 10^point. Keep at most 17 fractional digits, rounding half up on the decimal
        // digits (the digits are already the shortest exact-enough representation, so this is the same as
        // rounding the double itself except in pathological ties).
        if (count - point > 17)
        {
            int keep = point + 17;
            if (keep < 0)
            {
                return WriteAscii("0"u8, destination);
            }

            bool roundUp = digits[keep] >= (byte)'5';
            count = keep;
            if (roundUp)
            {
                int k = keep - 1;
                while (k >= 0 && digits[k] == (byte)'9')
                {
                    k--;
                }

                if (k < 0)
                {
                    // All kept digits were 9 (or none were kept): the result is 1 followed by zeros.
                    digits[0] = (byte)'1';
                    count = 1;
                    point++;
                }
                else
                {
                    digits[k]++;
                    count = k + 1;
                }
            }

            while (count > 0 && digits[count - 1] == (byte)'0')
            {
                count--;
            }

            if (count == 0)
            {
                // Everything rounded away: Redis turns the resulting "-0" into "0" too.
                return WriteAscii("0"u8, destination);
            }
        }

        int integerDigits = Math.Max(point, 0);
        int fractionDigits = Math.Max(count - point, 0);
        int leadingFractionZeros = point < 0 ? -point : 0;
        int length = (value < 0 ? 1 : 0)
            + (integerDigits == 0 ? 1 : integerDigits)
            + (fractionDigits > 0 ? 1 + fractionDigits : 0);
        if (destination.Length < length)
        {
            ThrowDestinationTooSmall();
        }

        int pos = 0;
        if (value < 0)
        {
            destination[pos++] = (byte)'-';
        }

        if (integerDigits == 0)
        {
            destination[pos++] = (byte)'0';
        }
        else
        {
            int fromDigits = Math.Min(point, count);
            digits[..fromDigits].CopyTo(destination[pos..]);
            pos += fromDigits;
            destination.Slice(pos, point - fromDigits).Fill((byte)'0');
            pos += point - fromDigits;
        }

        if (fractionDigits > 0)
        {
            destination[pos++] = (byte)'.';
            destination.Slice(pos, leadingFractionZeros).Fill((byte)'0');
            pos += leadingFractionZeros;
            ReadOnlySpan<byte> rest = digits[integerDigits..count];
            rest.CopyTo(destination[pos..]);
            pos += rest.Length;
        }

        return pos;
    }

    /// <summary>
    /// Formats a double the way Redis (7.2 and later, d2string) writes doubles in replies (ZSCORE, RESP3 ',',
    /// ZRANGE WITHSCORES): "nan", "inf", "-inf", "0"/"-0"; integral values within +-2^62 as plain integers;
    /// otherwise the shortest round-trip digits laid out like fpconv: plain notation for moderate exponents
    /// ("10.5", "0.0001", "123456.789"), scientific otherwise ("1e+19", "1e-07" is printed "1e-7",
    /// "1.5e+300"). Needs at most <see cref="MaxDoubleReplyLength"/> bytes.
    /// </summary>
    /// <remarks>Redis 7.0 and older printed "%.17g" instead (1.1 as "1.1000000000000001").</remarks>
    /// <exception cref="ArgumentException">The destination is shorter than the result.</exception>
    public static int FormatDoubleReply(double value, Span<byte> destination)
    {
        if (!double.IsFinite(value))
        {
            return WriteNonFinite(value, destination);
        }

        if (value == 0)
        {
            return WriteAscii(double.IsNegative(value) ? "-0"u8 : "0"u8, destination);
        }

        if (value >= -IntegerPathLimit && value <= IntegerPathLimit)
        {
            long integral = (long)value;
            if (integral == value)
            {
                return FormatInt64(integral, destination);
            }
        }

        Span<byte> digits = stackalloc byte[32];
        int count = ShortestDigits(value, digits, out int point);

        // fpconv describes the value as digits * 10^k.
        int k = point - count;
        int decimalExponent = k + count - 1;
        int absExponent = Math.Abs(decimalExponent);

        Span<byte> buffer = stackalloc byte[MaxDoubleReplyLength];
        int pos = 0;
        if (value < 0)
        {
            buffer[pos++] = (byte)'-';
        }

        if (k >= 0 && absExponent < count + 7)
        {
            // Integral but beyond 2^62: digits followed by k zeros.
            digits[..count].CopyTo(buffer[pos..]);
            pos += count;
            buffer.Slice(pos, k).Fill((byte)'0');
            pos += k;
        }
        else if (k < 0 && (k > -7 || absExponent < 4))
        {
            // Plain decimal notation.
            if (point <= 0)
            {
                buffer[pos++] = (byte)'0';
                buffer[pos++] = (byte)'.';
                buffer.Slice(pos, -point).Fill((byte)'0');
                pos += -point;
                digits[..count].CopyTo(buffer[pos..]);
                pos += count;
            }
            else
            {
                digits[..point].CopyTo(buffer[pos..]);
                pos += point;
                buffer[pos++] = (byte)'.';
                digits[point..count].CopyTo(buffer[pos..]);
                pos += count - point;
            }
        }
        else
        {
            // Scientific: d[.ddd]e(+|-)x with the exponent unpadded.
            buffer[pos++] = digits[0];
            if (count > 1)
            {
                buffer[pos++] = (byte)'.';
                digits[1..count].CopyTo(buffer[pos..]);
                pos += count - 1;
            }

            buffer[pos++] = (byte)'e';
            buffer[pos++] = decimalExponent < 0 ? (byte)'-' : (byte)'+';
            pos += FormatInt64(absExponent, buffer[pos..]);
        }

        return WriteAscii(buffer[..pos], destination);
    }

    /// <summary>
    /// Compares <paramref name="value"/> with <paramref name="upperAscii"/> ignoring ASCII case; the second
    /// argument must already be upper case (command and option names such as "GET", "EX", "NX").
    /// </summary>
    public static bool EqualsIgnoreCaseAscii(ReadOnlySpan<byte> value, ReadOnlySpan<byte> upperAscii)
    {
        if (value.Length != upperAscii.Length)
        {
            return false;
        }

        // Command names are short: a scalar loop beats the setup of a vectorised comparison. Clearing bit 5
        // upper-cases a letter; that is only a valid comparison when the expected byte is a letter, otherwise
        // the bytes must match exactly.
        for (int i = 0; i < value.Length; i++)
        {
            uint expected = upperAscii[i];
            uint actual = value[i];
            if (actual != expected && ((actual & 0xDFu) != expected || expected - 'A' > 'Z' - 'A'))
            {
                return false;
            }
        }

        return true;
    }

    // Writes the shortest round-trip decimal digits of |value| (finite, non-zero) without leading or trailing
    // zeros and returns their count; value = 0.d1d2...dn * 10^point.
    private static int ShortestDigits(double value, Span<byte> digits, out int point)
    {
        // .NET Core 3.0+ formats doubles with the shortest round-trippable digits by default ("R"/"G"); we
        // only need to take its "123.45" / "1.2345E-05" layouts apart.
        Span<byte> text = stackalloc byte[40];
        bool formatted = Math.Abs(value).TryFormat(text, out int length, "R", CultureInfo.InvariantCulture);
        System.Diagnostics.Debug.Assert(formatted, "40 bytes always hold a formatted double");

        int count = 0;
        int digitsBeforePoint = -1;
        int exponent = 0;
        int i = 0;
        for (; i < length; i++)
        {
            byte c = text[i];
            if (c == (byte)'.')
            {
                digitsBeforePoint = count;
            }
            else if (c == (byte)'E')
            {
                break;
            }
            else
            {
                digits[count++] = c;
            }
        }

        if (digitsBeforePoint < 0)
        {
            digitsBeforePoint = count;
        }

        if (i < length)
        {
            // "E+21" / "E-05"
            bool negativeExponent = text[i + 1] == (byte)'-';
            for (i += 2; i < length; i++)
            {
                exponent = (exponent * 10) + (text[i] - '0');
            }

            if (negativeExponent)
            {
                exponent = -exponent;
            }
        }

        int leadingZeros = 0;
        while (digits[leadingZeros] == (byte)'0')
        {
            leadingZeros++;
        }

        if (leadingZeros > 0)
        {
            digits[leadingZeros..count].CopyTo(digits);
            count -= leadingZeros;
        }

        while (digits[count - 1] == (byte)'0')
        {
            count--;
        }

        point = digitsBeforePoint - leadingZeros + exponent;
        return count;
    }

    private static int WriteNonFinite(double value, Span<byte> destination)
    {
        if (double.IsNaN(value))
        {
            return WriteAscii("nan"u8, destination);
        }

        return WriteAscii(value > 0 ? "inf"u8 : "-inf"u8, destination);
    }

    private static int WriteAscii(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        if (!text.TryCopyTo(destination))
        {
            ThrowDestinationTooSmall();
        }

        return text.Length;
    }

    private static void ThrowDestinationTooSmall() =>
        throw new ArgumentException("The destination is too small for the formatted number.", "destination");
}
