namespace AkkaCache.Protocol;

/// <summary>
/// Redis Cluster key hashing: CRC16-XMODEM of the key (or of its first non-empty <c>{hash tag}</c>) modulo 16384,
/// so cluster-aware Redis clients compute the same slot we do.
/// </summary>
public static class HashSlot
{
    public const int Count = 16384;

    private static readonly ushort[] Crc16Table = BuildTable();

    public static int Of(ReadOnlySpan<byte> key) => Crc16(HashedPart(key)) & (Count - 1);

    /// <summary>The part of the key that is hashed: the content of the first <c>{...}</c> if it is non-empty, else the whole key.</summary>
    public static ReadOnlySpan<byte> HashedPart(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open < 0) return key;
        int close = key[(open + 1)..].IndexOf((byte)'}');
        if (close <= 0) return key; // no closing brace, or "{}": the whole key is hashed
        return key.Slice(open + 1, close);
    }

    public static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        var table = Crc16Table;
        foreach (byte b in data)
            crc = (ushort)((crc << 8) ^ table[((crc >> 8) ^ b) & 0xFF]);
        return crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            ushort crc = (ushort)(i << 8);
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            table[i] = crc;
        }
        return table;
    }
}
