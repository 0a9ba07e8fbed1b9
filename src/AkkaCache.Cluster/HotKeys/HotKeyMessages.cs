using System.Buffers;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.HotKeys;

/// <summary>
/// Hot-key replication is plain RESP sent to a peer's client port, like the replication stream: the peer's ordinary
/// session runs it. Every message is answered, and the answers come back in order, so an answer acknowledges its message.
/// </summary>
public static class HotKeyMessages
{
    /// <summary>AC.HOTSET owner session key value version expire-at-ms: the owner's copy of a promoted key.</summary>
    public const string Set = "AC.HOTSET";
    /// <summary>AC.HOTDEL owner session key: the copy is no longer valid (written, deleted, demoted).</summary>
    public const string Delete = "AC.HOTDEL";
    /// <summary>AC.HOTPING holder [key reads ...]: renews the holder's lease on the owner's copies; answered with the session.</summary>
    public const string Ping = "AC.HOTPING";

    public static void WriteSet(IBufferWriter<byte> output, ReadOnlySpan<byte> owner, long session, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long version, long expireAtMs)
    {
        RespRequestEncoder.WriteArrayHeader(output, 7);
        RespRequestEncoder.WriteBulk(output, "AC.HOTSET"u8);
        RespRequestEncoder.WriteBulk(output, owner);
        RespRequestEncoder.WriteBulk(output, session);
        RespRequestEncoder.WriteBulk(output, key);
        RespRequestEncoder.WriteBulk(output, value);
        RespRequestEncoder.WriteBulk(output, version);
        RespRequestEncoder.WriteBulk(output, expireAtMs);
    }

    public static void WriteDelete(IBufferWriter<byte> output, ReadOnlySpan<byte> owner, long session, ReadOnlySpan<byte> key)
    {
        RespRequestEncoder.WriteArrayHeader(output, 4);
        RespRequestEncoder.WriteBulk(output, "AC.HOTDEL"u8);
        RespRequestEncoder.WriteBulk(output, owner);
        RespRequestEncoder.WriteBulk(output, session);
        RespRequestEncoder.WriteBulk(output, key);
    }

    public static void WritePing(IBufferWriter<byte> output, ReadOnlySpan<byte> holder, List<(byte[] Key, long Reads)> reads)
    {
        RespRequestEncoder.WriteArrayHeader(output, 2 + 2 * reads.Count);
        RespRequestEncoder.WriteBulk(output, "AC.HOTPING"u8);
        RespRequestEncoder.WriteBulk(output, holder);
        foreach (var (key, count) in reads)
        {
            RespRequestEncoder.WriteBulk(output, key);
            RespRequestEncoder.WriteBulk(output, count);
        }
    }
}
