using System.Buffers;
using AkkaCache.Protocol;

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
        RespRequestEncoder.WriteArrayHeader(output, 6);
        RespRequestEncoder.WriteBulk(output, "AC.RSET"u8);
        RespRequestEncoder.WriteBulk(output, shard);
        RespRequestEncoder.WriteBulk(output, seq);
        RespRequestEncoder.WriteBulk(output, key);
        RespRequestEncoder.WriteBulk(output, value);
        RespRequestEncoder.WriteBulk(output, expireAtMs);
    }

    public static void WriteDelete(IBufferWriter<byte> output, int shard, long seq, ReadOnlySpan<byte> key)
    {
        RespRequestEncoder.WriteArrayHeader(output, 4);
        RespRequestEncoder.WriteBulk(output, "AC.RDEL"u8);
        RespRequestEncoder.WriteBulk(output, shard);
        RespRequestEncoder.WriteBulk(output, seq);
        RespRequestEncoder.WriteBulk(output, key);
    }

    public static void WriteClear(IBufferWriter<byte> output, int shard, long seq)
    {
        RespRequestEncoder.WriteArrayHeader(output, 3);
        RespRequestEncoder.WriteBulk(output, "AC.RCLEAR"u8);
        RespRequestEncoder.WriteBulk(output, shard);
        RespRequestEncoder.WriteBulk(output, seq);
    }

    public static void WriteSync(IBufferWriter<byte> output, int shard)
    {
        RespRequestEncoder.WriteArrayHeader(output, 2);
        RespRequestEncoder.WriteBulk(output, "AC.RSYNC"u8);
        RespRequestEncoder.WriteBulk(output, shard);
    }

    public static void WriteMark(IBufferWriter<byte> output, int shard, long seq)
    {
        RespRequestEncoder.WriteArrayHeader(output, 3);
        RespRequestEncoder.WriteBulk(output, "AC.RMARK"u8);
        RespRequestEncoder.WriteBulk(output, shard);
        RespRequestEncoder.WriteBulk(output, seq);
    }

    public static void WriteHello(IBufferWriter<byte> output, string memberId, long incarnation)
    {
        RespRequestEncoder.WriteArrayHeader(output, 3);
        RespRequestEncoder.WriteBulk(output, "AC.RHELLO"u8);
        RespRequestEncoder.WriteBulk(output, System.Text.Encoding.UTF8.GetBytes(memberId));
        RespRequestEncoder.WriteBulk(output, incarnation);
    }
}
