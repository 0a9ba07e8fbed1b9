using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace AkkaCache.Protocol;

/// <summary>
/// Writes RESP replies into an <see cref="IBufferWriter{T}"/> (a PipeWriter in the server), in RESP2 or RESP3
/// shapes according to <see cref="Version"/>. Every method writes straight into the writer's memory: no
/// allocations, no intermediate strings. Each call commits its bytes (Advance) before returning, so the caller
/// may flush the underlying writer at any point.
/// </summary>
/// <remarks>
/// A sealed class rather than a struct: a connection keeps one writer for its lifetime and hands it to every
/// command handler, and HELLO changes <see cref="Version"/> in the middle of that lifetime. As a struct it would
/// have to be passed by ref everywhere, and any copy (a readonly field, a captured local, a non-ref parameter)
/// would silently keep a stale version. Speed is the same: either way a call loads the same two fields and
/// the cost is dominated by the writer's GetSpan/Advance, which this type calls once per reply element
/// (small elements are written with a single GetSpan/Advance pair, headers included).
/// </remarks>
public sealed class RespWriter
{
    // Values up to this many bytes are written with one GetSpan(total); larger ones are copied in whatever
    // pieces the writer offers, so a 1 MB value never forces a 1 MB contiguous segment.
    private const int SingleSpanLimit = 4096;

    // '$' + 10 digits + CRLF, rounded up.
    private const int MaxHeaderLength = 16;

    private readonly IBufferWriter<byte> _output;

    /// <summary>Creates a writer that appends to <paramref name="output"/>.</summary>
    public RespWriter(IBufferWriter<byte> output, RespVersion version)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        Version = version;
    }

    /// <summary>The protocol shapes to write; HELLO switches it.</summary>
    public RespVersion Version { get; set; }

    /// <summary>Error replies written so far: a server tells a command that failed by this count changing.</summary>
    public long ErrorReplies { get; private set; }

    private bool IsResp3 => Version == RespVersion.Resp3;

    /// <summary>Writes "+text\r\n". The text must not contain CR or LF.</summary>
    public void WriteSimpleString(ReadOnlySpan<byte> utf8) => WriteLine((byte)'+', utf8);

    /// <summary>Writes "+text\r\n" (encoded as UTF-8). The text must not contain CR or LF.</summary>
    public void WriteSimpleString(string ascii)
    {
        ArgumentNullException.ThrowIfNull(ascii);
        WriteLine((byte)'+', ascii, sanitize: false);
    }

    /// <summary>Writes "+OK\r\n".</summary>
    public void WriteOk() => WriteRaw("+OK\r\n"u8);

    /// <summary>
    /// Writes "-message\r\n". The message carries its own prefix ("ERR ...", "WRONGTYPE ...", "MOVED ...").
    /// CR and LF in the message are replaced by spaces (as Redis does), because error texts often quote client
    /// input and a line break would corrupt the stream.
    /// </summary>
    public void WriteError(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ErrorReplies++;
        WriteLine((byte)'-', message, sanitize: true);
    }

    /// <summary>Writes "-message\r\n" from UTF-8 bytes; CR and LF become spaces.</summary>
    public void WriteError(ReadOnlySpan<byte> utf8Message)
    {
        ErrorReplies++;
        int total = utf8Message.Length + 3;
        Span<byte> span = _output.GetSpan(total);
        span[0] = (byte)'-';
        Span<byte> body = span.Slice(1, utf8Message.Length);
        utf8Message.CopyTo(body);
        ReplaceLineBreaks(body);
        span[total - 2] = (byte)'\r';
        span[total - 1] = (byte)'\n';
        _output.Advance(total);
    }

    /// <summary>Writes ":value\r\n".</summary>
    public void WriteInteger(long value) => WriteNumberLine((byte)':', value);

    /// <summary>Writes "$len\r\nvalue\r\n" (binary safe).</summary>
    public void WriteBulkString(ReadOnlySpan<byte> value)
    {
        int length = value.Length;
        if (length <= SingleSpanLimit)
        {
            // Header, payload and trailer in one span.
            Span<byte> span = _output.GetSpan(length + MaxHeaderLength);
            int pos = WriteHeader(span, (byte)'$', length);
            value.CopyTo(span[pos..]);
            pos += length;
            span[pos] = (byte)'\r';
            span[pos + 1] = (byte)'\n';
            _output.Advance(pos + 2);
            return;
        }

        WriteBulkStringHeader(length);
        WriteRaw(value);
        WriteCrLf();
    }

    /// <summary>Writes a bulk string holding the UTF-8 encoding of <paramref name="value"/>.</summary>
    public void WriteBulkString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);

        // Exact UTF-8 length first (vectorised, and trivial for ASCII); invalid UTF-16 is encoded as U+FFFD,
        // which the count below accounts for identically.
        int byteCount = Encoding.UTF8.GetByteCount(value);
        if (byteCount <= SingleSpanLimit)
        {
            Span<byte> span = _output.GetSpan(byteCount + MaxHeaderLength);
            int pos = WriteHeader(span, (byte)'$', byteCount);
            pos += Encoding.UTF8.GetBytes(value, span[pos..]);
            span[pos] = (byte)'\r';
            span[pos + 1] = (byte)'\n';
            _output.Advance(pos + 2);
            return;
        }

        WriteBulkStringHeader(byteCount);
        WriteUtf8Chunked(value);
        WriteCrLf();
    }

    /// <summary>Writes an integer as a bulk string ("$2\r\n42\r\n").</summary>
    public void WriteBulkString(long value)
    {
        Span<byte> digits = stackalloc byte[RespNumbers.MaxInt64Length];
        int count = RespNumbers.FormatInt64(value, digits);
        WriteBulkString(digits[..count]);
    }

    /// <summary>
    /// Writes the header of a bulk string whose <paramref name="length"/> payload bytes the caller writes next
    /// (e.g. with <see cref="WriteRaw"/>, possibly in pieces), followed by <see cref="WriteCrLf"/>.
    /// </summary>
    public void WriteBulkStringHeader(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        WriteNumberLine((byte)'$', length);
    }

    /// <summary>Writes "\r\n" (the trailer after a payload started with <see cref="WriteBulkStringHeader"/>).</summary>
    public void WriteCrLf() => WriteRaw("\r\n"u8);

    /// <summary>Writes a null: RESP2 null bulk string "$-1\r\n", RESP3 "_\r\n".</summary>
    public void WriteNull() => WriteRaw(IsResp3 ? "_\r\n"u8 : "$-1\r\n"u8);

    /// <summary>Writes a null array: RESP2 "*-1\r\n", RESP3 "_\r\n".</summary>
    public void WriteNullArray() => WriteRaw(IsResp3 ? "_\r\n"u8 : "*-1\r\n"u8);

    /// <summary>Writes "*count\r\n"; the caller then writes <paramref name="count"/> elements.</summary>
    public void WriteArrayHeader(int count) => WriteNumberLine((byte)'*', count);

    /// <summary>Writes a map header: RESP3 "%pairs\r\n", RESP2 an array of 2 * pairs elements (key, value, ...).</summary>
    public void WriteMapHeader(int pairs)
    {
        if (IsResp3)
        {
            WriteNumberLine((byte)'%', pairs);
        }
        else
        {
            WriteNumberLine((byte)'*', 2L * pairs);
        }
    }

    /// <summary>Writes a set header: RESP3 "~count\r\n", RESP2 "*count\r\n".</summary>
    public void WriteSetHeader(int count) => WriteNumberLine(IsResp3 ? (byte)'~' : (byte)'*', count);

    /// <summary>Writes a push header (pub/sub messages): RESP3 "&gt;count\r\n", RESP2 "*count\r\n".</summary>
    public void WritePushHeader(int count) => WriteNumberLine(IsResp3 ? (byte)'>' : (byte)'*', count);

    /// <summary>
    /// Writes a double: RESP3 ",repr\r\n", RESP2 a bulk string of repr, where repr is Redis's reply format
    /// (<see cref="RespNumbers.FormatDoubleReply"/>): "3", "10.5", "inf", "-inf", "nan", "1e+19".
    /// </summary>
    public void WriteDouble(double value)
    {
        Span<byte> text = stackalloc byte[RespNumbers.MaxDoubleReplyLength];
        int length = RespNumbers.FormatDoubleReply(value, text);
        if (IsResp3)
        {
            WriteLine((byte)',', text[..length]);
        }
        else
        {
            WriteBulkString(text[..length]);
        }
    }

    /// <summary>Writes a boolean: RESP3 "#t\r\n"/"#f\r\n", RESP2 ":1\r\n"/":0\r\n".</summary>
    public void WriteBoolean(bool value)
    {
        if (IsResp3)
        {
            WriteRaw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        }
        else
        {
            WriteRaw(value ? ":1\r\n"u8 : ":0\r\n"u8);
        }
    }

    /// <summary>
    /// Writes a verbatim string: RESP3 "=len\r\nfmt:text\r\n" (len counts "fmt:"), RESP2 a bulk string of the
    /// text alone. <paramref name="format"/> is exactly three ASCII characters ("txt", "mkd").
    /// </summary>
    public void WriteVerbatimString(string format, string text)
    {
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(text);
        if (!IsResp3)
        {
            WriteBulkString(text);
            return;
        }

        if (format.Length != 3 || !Ascii.IsValid(format))
        {
            throw new ArgumentException("A verbatim string format is exactly three ASCII characters.", nameof(format));
        }

        int byteCount = Encoding.UTF8.GetByteCount(text);
        Span<byte> header = _output.GetSpan(MaxHeaderLength + 4);
        int pos = WriteHeader(header, (byte)'=', byteCount + 4);
        for (int i = 0; i < 3; i++)
        {
            header[pos + i] = (byte)format[i];
        }

        header[pos + 3] = (byte)':';
        _output.Advance(pos + 4);
        WriteUtf8Chunked(text);
        WriteCrLf();
    }

    /// <summary>Writes a big number: RESP3 "(digits\r\n", RESP2 a bulk string of the digits (as Redis does).</summary>
    public void WriteBigNumber(string digits)
    {
        ArgumentNullException.ThrowIfNull(digits);
        if (IsResp3)
        {
            WriteLine((byte)'(', digits, sanitize: false);
        }
        else
        {
            WriteBulkString(digits);
        }
    }

    /// <summary>Copies already encoded RESP bytes (cached replies, proxied frames) to the output.</summary>
    public void WriteRaw(ReadOnlySpan<byte> preEncoded)
    {
        if (preEncoded.Length <= SingleSpanLimit)
        {
            if (preEncoded.IsEmpty)
            {
                return;
            }

            Span<byte> span = _output.GetSpan(preEncoded.Length);
            preEncoded.CopyTo(span);
            _output.Advance(preEncoded.Length);
            return;
        }

        // Large payloads go in whatever pieces the writer offers (pool-sized segments for a PipeWriter).
        while (!preEncoded.IsEmpty)
        {
            Span<byte> span = _output.GetSpan();
            int chunk = Math.Min(span.Length, preEncoded.Length);
            preEncoded[..chunk].CopyTo(span);
            _output.Advance(chunk);
            preEncoded = preEncoded[chunk..];
        }
    }

    // ---- helpers ----

    // marker + number + CRLF with a single GetSpan/Advance.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteNumberLine(byte marker, long value)
    {
        Span<byte> span = _output.GetSpan(RespNumbers.MaxInt64Length + 3);
        span[0] = marker;
        int pos = 1 + RespNumbers.FormatInt64(value, span[1..]);
        span[pos] = (byte)'\r';
        span[pos + 1] = (byte)'\n';
        _output.Advance(pos + 2);
    }

    // Writes marker + length + CRLF into span; returns the bytes written.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WriteHeader(Span<byte> span, byte marker, int length)
    {
        span[0] = marker;
        int pos = 1 + RespNumbers.FormatInt64(length, span[1..]);
        span[pos] = (byte)'\r';
        span[pos + 1] = (byte)'\n';
        return pos + 2;
    }

    private void WriteLine(byte marker, ReadOnlySpan<byte> body)
    {
        int total = body.Length + 3;
        if (total > SingleSpanLimit)
        {
            WriteRaw([marker]);
            WriteRaw(body);
            WriteCrLf();
            return;
        }

        Span<byte> span = _output.GetSpan(total);
        span[0] = marker;
        body.CopyTo(span[1..]);
        span[total - 2] = (byte)'\r';
        span[total - 1] = (byte)'\n';
        _output.Advance(total);
    }

    private void WriteLine(byte marker, string body, bool sanitize)
    {
        int byteCount = Encoding.UTF8.GetByteCount(body);
        int total = byteCount + 3;
        if (total > SingleSpanLimit)
        {
            // Rare (huge status or error texts): encode once into a pooled buffer.
            byte[] rented = ArrayPool<byte>.Shared.Rent(byteCount);
            try
            {
                int written = Encoding.UTF8.GetBytes(body, rented);
                if (sanitize)
                {
                    ReplaceLineBreaks(rented.AsSpan(0, written));
                }

                WriteLine(marker, rented.AsSpan(0, written));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }

            return;
        }

        Span<byte> span = _output.GetSpan(total);
        span[0] = marker;
        int length = Encoding.UTF8.GetBytes(body, span[1..]);
        if (sanitize)
        {
            ReplaceLineBreaks(span.Slice(1, length));
        }

        span[length + 1] = (byte)'\r';
        span[length + 2] = (byte)'\n';
        _output.Advance(length + 3);
    }

    // Encodes a long string in writer-sized pieces. Utf8.FromUtf16 never splits a surrogate pair across
    // pieces: it stops early and reports DestinationTooSmall, and we ask for a span of at least 4 bytes.
    private void WriteUtf8Chunked(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            Span<byte> span = _output.GetSpan(4);
            Utf8.FromUtf16(text, span, out int charsRead, out int bytesWritten, replaceInvalidSequences: true);
            _output.Advance(bytesWritten);
            text = text[charsRead..];
        }
    }

    private static void ReplaceLineBreaks(Span<byte> text)
    {
        int index;
        while ((index = text.IndexOfAny((byte)'\r', (byte)'\n')) >= 0)
        {
            text[index] = (byte)' ';
            text = text[(index + 1)..];
        }
    }
}
