using System.Text;
using AkkaCache.Protocol;

namespace AkkaCache.Client.Internal;

/// <summary>
/// One reply as the request path needs it: the common shapes (+OK, :n, $bulk, nil, -ERR) are decoded without a
/// <see cref="RespValue"/> tree; anything else (arrays, RESP3 types) comes parsed in <see cref="Value"/>.
/// </summary>
internal readonly struct Reply
{
    public readonly RespType Type;
    public readonly long Integer;
    public readonly byte[]? Bytes;       // bulk string payload
    public readonly string? Text;        // error text, or a simple string other than OK
    public readonly RespValue? Value;    // aggregates and other RESP3 types

    private Reply(RespType type, long integer = 0, byte[]? bytes = null, string? text = null, RespValue? value = null)
    {
        Type = type;
        Integer = integer;
        Bytes = bytes;
        Text = text;
        Value = value;
    }

    public static Reply Ok { get; } = new(RespType.SimpleString);
    public static Reply Nil { get; } = new(RespType.Null);

    public static Reply Simple(string text) => new(RespType.SimpleString, text: text);
    public static Reply Error(string text) => new(RespType.Error, text: text);
    public static Reply FromInteger(long value) => new(RespType.Integer, integer: value);
    public static Reply Bulk(byte[] bytes) => new(RespType.BulkString, bytes: bytes);
    public static Reply Parsed(RespValue value) => new(value.Type, value.Integer, value.Type == RespType.BulkString ? value.Bytes : null,
        value.Type == RespType.Error ? value.AsString() : null, value);

    public bool IsError => Type == RespType.Error;
    public bool IsNull => Type == RespType.Null;

    /// <summary>Parses one reply at the start of <paramref name="input"/>; false when more bytes are needed.</summary>
    public static bool TryRead(ReadOnlySpan<byte> input, out Reply reply, out int consumed)
    {
        reply = default;
        consumed = 0;
        if (input.IsEmpty) return false;
        byte marker = input[0];
        if (marker is (byte)'+' or (byte)'-' or (byte)':' or (byte)'$' or (byte)'_')
        {
            int lineEnd = input.IndexOf("\r\n"u8);
            if (lineEnd < 0) return false;
            var line = input[1..lineEnd];
            int next = lineEnd + 2;
            switch (marker)
            {
                case (byte)'+':
                    reply = line.SequenceEqual("OK"u8) ? Ok : Simple(Encoding.UTF8.GetString(line));
                    consumed = next;
                    return true;
                case (byte)'-':
                    reply = Error(Encoding.UTF8.GetString(line));
                    consumed = next;
                    return true;
                case (byte)':':
                    if (!RespNumbers.TryParseInt64(line, out long integer)) throw new IOException("Malformed integer reply.");
                    reply = FromInteger(integer);
                    consumed = next;
                    return true;
                case (byte)'_':
                    reply = Nil;
                    consumed = next;
                    return true;
                default:
                    if (!RespNumbers.TryParseInt64(line, out long length) || length < -1 || length > int.MaxValue - 2)
                        throw new IOException("Malformed bulk reply.");
                    if (length == -1)
                    {
                        reply = Nil;
                        consumed = next;
                        return true;
                    }
                    if (input.Length - next < length + 2) return false;
                    reply = Bulk(input.Slice(next, (int)length).ToArray());
                    consumed = next + (int)length + 2;
                    return true;
            }
        }
        var status = RespReplyParser.TryParse(input, out var value, out consumed, out string? error);
        if (status == RespParseStatus.Error) throw new IOException("Malformed reply: " + error);
        if (status == RespParseStatus.Incomplete) return false;
        reply = Parsed(value!);
        return true;
    }
}
