using System.Globalization;
using System.Text;

namespace AkkaCache.Protocol;

/// <summary>The kind of a parsed reply.</summary>
public enum RespType
{
    /// <summary>"+text"</summary>
    SimpleString,

    /// <summary>"-text" or RESP3 blob error "!len"</summary>
    Error,

    /// <summary>":n"</summary>
    Integer,

    /// <summary>"$len" (not null)</summary>
    BulkString,

    /// <summary>"*n" (not null)</summary>
    Array,

    /// <summary>RESP2 "$-1" / "*-1", RESP3 "_"</summary>
    Null,

    /// <summary>RESP3 "%n": <see cref="RespValue.Items"/> holds key, value, key, value...</summary>
    Map,

    /// <summary>RESP3 "~n"</summary>
    Set,

    /// <summary>RESP3 "&gt;n"</summary>
    Push,

    /// <summary>RESP3 ","</summary>
    Double,

    /// <summary>RESP3 "#t" / "#f"</summary>
    Boolean,

    /// <summary>RESP3 "(" digits (kept as text in <see cref="RespValue.Bytes"/>)</summary>
    BigNumber,

    /// <summary>RESP3 "=len\r\nfmt:text" (<see cref="RespValue.Format"/> and the text in <see cref="RespValue.Bytes"/>)</summary>
    Verbatim,
}

/// <summary>
/// One parsed reply (client side: tests, the .NET client). Immutable; compares structurally, so tests can
/// assert whole replies with Assert.Equal.
/// </summary>
public sealed class RespValue : IEquatable<RespValue>
{
    private static readonly RespValue[] NoItems = [];

    private RespValue(RespType type, byte[]? bytes = null, long integer = 0, double number = 0, bool boolean = false,
        IReadOnlyList<RespValue>? items = null, string? format = null)
    {
        Type = type;
        Bytes = bytes;
        Integer = integer;
        Double = number;
        Boolean = boolean;
        Items = items;
        Format = format;
    }

    /// <summary>The null reply.</summary>
    public static RespValue Null { get; } = new(RespType.Null);

    /// <summary>The kind of reply.</summary>
    public RespType Type { get; }

    /// <summary>Payload of SimpleString, Error, BulkString, Verbatim (text without "fmt:") and BigNumber (digits).</summary>
    public byte[]? Bytes { get; }

    /// <summary>Value of an Integer reply.</summary>
    public long Integer { get; }

    /// <summary>Value of a Double reply.</summary>
    public double Double { get; }

    /// <summary>Value of a Boolean reply.</summary>
    public bool Boolean { get; }

    /// <summary>Elements of Array, Set, Push, and Map (flattened as key, value, key, value...).</summary>
    public IReadOnlyList<RespValue>? Items { get; }

    /// <summary>The three-character format of a Verbatim reply ("txt", "mkd").</summary>
    public string? Format { get; }

    /// <summary>True for RESP2 null bulk/array and RESP3 null.</summary>
    public bool IsNull => Type == RespType.Null;

    /// <summary>True for "-..." and "!..." replies.</summary>
    public bool IsError => Type == RespType.Error;

    /// <summary>Creates a simple string reply.</summary>
    public static RespValue SimpleString(string text) => new(RespType.SimpleString, Encoding.UTF8.GetBytes(text));

    /// <summary>Creates an error reply (text includes its prefix, e.g. "ERR ...").</summary>
    public static RespValue Error(string text) => new(RespType.Error, Encoding.UTF8.GetBytes(text));

    /// <summary>Creates an integer reply.</summary>
    public static RespValue FromInteger(long value) => new(RespType.Integer, integer: value);

    /// <summary>Creates a bulk string reply.</summary>
    public static RespValue BulkString(byte[] value) => new(RespType.BulkString, value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>Creates a bulk string reply holding UTF-8 text.</summary>
    public static RespValue BulkString(string value) => new(RespType.BulkString, Encoding.UTF8.GetBytes(value));

    /// <summary>Creates an array reply.</summary>
    public static RespValue Array(params RespValue[] items) => new(RespType.Array, items: items);

    /// <summary>Creates a map reply from flattened key, value items.</summary>
    public static RespValue Map(params RespValue[] keysAndValues)
    {
        if (keysAndValues.Length % 2 != 0)
        {
            throw new ArgumentException("A map needs an even number of items.", nameof(keysAndValues));
        }

        return new(RespType.Map, items: keysAndValues);
    }

    /// <summary>Creates a set reply.</summary>
    public static RespValue Set(params RespValue[] items) => new(RespType.Set, items: items);

    /// <summary>Creates a push reply.</summary>
    public static RespValue Push(params RespValue[] items) => new(RespType.Push, items: items);

    /// <summary>Creates a double reply.</summary>
    public static RespValue FromDouble(double value) => new(RespType.Double, number: value);

    /// <summary>Creates a boolean reply.</summary>
    public static RespValue FromBoolean(bool value) => new(RespType.Boolean, boolean: value);

    /// <summary>Creates a big number reply.</summary>
    public static RespValue BigNumber(string digits) => new(RespType.BigNumber, Encoding.ASCII.GetBytes(digits));

    /// <summary>Creates a verbatim string reply.</summary>
    public static RespValue Verbatim(string format, string text) =>
        new(RespType.Verbatim, Encoding.UTF8.GetBytes(text), format: format);

    internal static RespValue Create(RespType type, byte[] bytes, string? format = null) =>
        new(type, bytes, format: format);

    internal static RespValue Aggregate(RespType type, List<RespValue>? items) =>
        new(type, items: items is null ? NoItems : items);

    /// <summary>
    /// The reply as text: the UTF-8 payload of string-like replies, the number of Integer/Double/BigNumber
    /// replies (doubles in Redis's reply format), "true"/"false" for booleans, null for Null and aggregates.
    /// </summary>
    public string? AsString()
    {
        switch (Type)
        {
            case RespType.Integer:
                return Integer.ToString(CultureInfo.InvariantCulture);
            case RespType.Double:
                Span<byte> text = stackalloc byte[RespNumbers.MaxDoubleReplyLength];
                return Encoding.ASCII.GetString(text[..RespNumbers.FormatDoubleReply(Double, text)]);
            case RespType.Boolean:
                return Boolean ? "true" : "false";
            default:
                return Bytes is null ? null : Encoding.UTF8.GetString(Bytes);
        }
    }

    /// <summary>A redis-cli-like rendering for diagnostics and test failure messages.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        Render(builder);
        return builder.ToString();
    }

    private void Render(StringBuilder builder)
    {
        switch (Type)
        {
            case RespType.Null:
                builder.Append("(nil)");
                break;
            case RespType.Integer:
                builder.Append("(integer) ").Append(Integer.ToString(CultureInfo.InvariantCulture));
                break;
            case RespType.Double:
                builder.Append("(double) ").Append(AsString());
                break;
            case RespType.Boolean:
                builder.Append(Boolean ? "(true)" : "(false)");
                break;
            case RespType.Error:
                builder.Append("(error) ").Append(AsString());
                break;
            case RespType.SimpleString:
                builder.Append(AsString());
                break;
            case RespType.BigNumber:
                builder.Append("(big number) ").Append(AsString());
                break;
            case RespType.Verbatim:
                builder.Append("(verbatim ").Append(Format).Append(") \"").Append(AsString()).Append('"');
                break;
            case RespType.BulkString:
                builder.Append('"').Append(AsString()).Append('"');
                break;
            default:
                builder.Append(Type switch
                {
                    RespType.Map => "(map) {",
                    RespType.Set => "(set) [",
                    RespType.Push => "(push) [",
                    _ => "[",
                });
                IReadOnlyList<RespValue> items = Items ?? NoItems;
                for (int i = 0; i < items.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(Type == RespType.Map && i % 2 == 1 ? ": " : ", ");
                    }

                    items[i].Render(builder);
                }

                builder.Append(Type == RespType.Map ? '}' : ']');
                break;
        }
    }

    /// <inheritdoc />
    public bool Equals(RespValue? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.Type != Type || other.Integer != Integer || other.Boolean != Boolean
            || !other.Double.Equals(Double) || other.Format != Format)
        {
            return false;
        }

        if (Bytes is null != other.Bytes is null || (Bytes is not null && !Bytes.AsSpan().SequenceEqual(other.Bytes)))
        {
            return false;
        }

        IReadOnlyList<RespValue>? mine = Items;
        IReadOnlyList<RespValue>? theirs = other.Items;
        if (mine is null || theirs is null)
        {
            return mine is null && theirs is null;
        }

        if (mine.Count != theirs.Count)
        {
            return false;
        }

        for (int i = 0; i < mine.Count; i++)
        {
            if (!mine[i].Equals(theirs[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as RespValue);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Type);
        hash.Add(Integer);
        hash.Add(Double);
        hash.Add(Boolean);
        if (Bytes is not null)
        {
            hash.AddBytes(Bytes);
        }

        hash.Add(Items?.Count ?? -1);
        return hash.ToHashCode();
    }
}
