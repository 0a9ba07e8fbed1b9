using AkkaCache.Protocol;

namespace AkkaCache.Core.Keyspace;

/// <summary>Slots are grouped into a fixed number of shards, each a contiguous slot range.</summary>
public sealed class ShardLayout
{
    public const int DefaultShardCount = 1024;

    public ShardLayout(int shardCount = DefaultShardCount)
    {
        if (shardCount <= 0 || shardCount > HashSlot.Count || HashSlot.Count % shardCount != 0)
            throw new ArgumentOutOfRangeException(nameof(shardCount), shardCount, "The shard count must divide 16384.");
        ShardCount = shardCount;
        SlotsPerShard = HashSlot.Count / shardCount;
    }

    public int ShardCount { get; }
    public int SlotsPerShard { get; }

    public int ShardOfSlot(int slot) => slot / SlotsPerShard;
    public int ShardOfKey(ReadOnlySpan<byte> key) => ShardOfSlot(HashSlot.Of(key));
    public int FirstSlot(int shard) => shard * SlotsPerShard;
}
