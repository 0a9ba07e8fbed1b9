using System.Buffers.Binary;

namespace AkkaCache.Client.Internal;

/// <summary>
/// What <see cref="AkkaCacheDistributedCache"/> stores before an entry's data: a format version (1), the absolute expiry
/// as Unix milliseconds (0: none) and the sliding window in milliseconds (0: none), both little-endian. The node only
/// knows the key's TTL; the header is how a reader learns which TTL to give the key again on a sliding read.
/// </summary>
internal readonly record struct EntryHeader(long AbsoluteMs, long SlidingMs)
{
    public const byte FormatVersion = 1;
    public const int Size = 1 + 8 + 8;

    public void Write(Span<byte> destination)
    {
        destination[0] = FormatVersion;
        BinaryPrimitives.WriteInt64LittleEndian(destination[1..], AbsoluteMs);
        BinaryPrimitives.WriteInt64LittleEndian(destination[9..], SlidingMs);
    }

    /// <summary>The header at the start of a stored value; throws when the value was not written by the distributed cache.</summary>
    public static EntryHeader Read(ReadOnlySpan<byte> stored, string key)
    {
        if (stored.Length < Size || stored[0] != FormatVersion)
            throw new AkkaCacheException(stored.Length >= 1 && stored[0] != FormatVersion
                ? $"The value at '{key}' has header format {stored[0]}, this client reads {FormatVersion}: it was written by another version or not by the distributed cache."
                : $"The value at '{key}' is too short to carry the distributed cache's header: it was not written by the distributed cache.");
        return new EntryHeader(BinaryPrimitives.ReadInt64LittleEndian(stored[1..]), BinaryPrimitives.ReadInt64LittleEndian(stored[9..]));
    }

    // the node expires keys at expireAt <= now, so the same comparison here
    public bool IsExpiredAt(long nowMs) => AbsoluteMs != 0 && AbsoluteMs <= nowMs;

    /// <summary>The TTL the key gets at <paramref name="nowMs"/>: the sliding window, cut short by the absolute expiry; null for none.</summary>
    public long? TtlAt(long nowMs)
    {
        long? ttl = SlidingMs > 0 ? SlidingMs : null;
        if (AbsoluteMs != 0)
        {
            long remaining = AbsoluteMs - nowMs;
            if (ttl is null || remaining < ttl) ttl = remaining;
        }
        return ttl;
    }
}
