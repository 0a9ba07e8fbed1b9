using System.Buffers;
using System.Buffers.Text;

namespace AkkaCache.Cluster.Replication;

/// <summary>
/// The replication stream is plain RESP sent to the peer's client port, so the peer's ordinary session parses it,
/// enters the right shard and applies it in order. Every record carries the full state of one key (value and absolute
/// expiry, or its absence), so applying a record twice or a snapshot record before an older live one converges.
/// Only <c>AC.RMARK</c> is answered; the answer acknowledges everything before it.
/// </summary>
public static class ReplicationCommands
{
    public const string Hello = "AC.RHELLO";   // AC.RHELLO sender-member-id sender-incarnation
    public const string Sync = "AC.RSYNC";     // AC.RSYNC shard: a full sync starts, drop the shard's entries
    public const string Set = "AC.RSET";       // AC.RSET shard seq key value expire-at-ms
    public const string Delete = "AC.RDEL";    // AC.RDEL shard seq key
    public const string Clear = "AC.RCLEAR";   // AC.RCLEAR shard seq
    public const string Mark = "AC.RMARK";     // AC.RMARK shard seq → [shard, seq, status]

    public const long StatusApplied = 0;
    /// <summary>The receiver does not follow the sender for this shard in its map: a stale epoch or a fenced primary.</summary>
    public const long StatusRejected = 1;

    public static void WriteSet(IBufferWriter<byte> output, int shard, long seq, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAtMs)
    {
        WriteHeader(output, 6);
        WriteBulk(output, "AC.RSET"u8);
        WriteBulk(output, shard);
        WriteBulk(output, seq);
        WriteBulk(output, key);
        WriteBulk(output, value);
        WriteBulk(output, expireAtMs);
    }

    public static void WriteDelete(IBufferWriter<byte> output, int shard, long seq, ReadOnlySpan<byte> key)
    {
        WriteHeader(output, 4);
        WriteBulk(output, "AC.RDEL"u8);
        WriteBulk(output, shard);
        WriteBulk(output, seq);
        WriteBulk(output, key);
    }

    public static void WriteClear(IBufferWriter<byte> output, int shard, long seq)
    {
        WriteHeader(output, 3);
        WriteBulk(output, "AC.RCLEAR"u8);
        WriteBulk(output, shard);
        WriteBulk(output, seq);
    }

    public static void WriteSync(IBufferWriter<byte> output, int shard)
    {
        WriteHeader(output, 2);
        WriteBulk(output, "AC.RSYNC"u8);
        WriteBulk(output, shard);
    }

    public static void WriteMark(IBufferWriter<byte> output, int shard, long seq)
    {
        WriteHeader(output, 3);
        WriteBulk(output, "AC.RMARK"u8);
        WriteBulk(output, shard);
        WriteBulk(output, seq);
    }

    public static void WriteHello(IBufferWriter<byte> output, string memberId, long incarnation)
    {
        WriteHeader(output, 3);
        WriteBulk(output, "AC.RHELLO"u8);
        WriteBulk(output, System.Text.Encoding.UTF8.GetBytes(memberId));
        WriteBulk(output, incarnation);
    }

    private static void WriteHeader(IBufferWriter<byte> output, int count)
    {
        var span = output.GetSpan(16);
        span[0] = (byte)'*';
        Utf8Formatter.TryFormat(count, span[1..], out int written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        output.Advance(3 + written);
    }

    private static void WriteBulk(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        var span = output.GetSpan(value.Length + 16);
        span[0] = (byte)'$';
        Utf8Formatter.TryFormat(value.Length, span[1..], out int written);
        int at = 1 + written;
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        value.CopyTo(span[at..]);
        at += value.Length;
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        output.Advance(at);
    }

    private static void WriteBulk(IBufferWriter<byte> output, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int length);
        WriteBulk(output, digits[..length]);
    }
}
