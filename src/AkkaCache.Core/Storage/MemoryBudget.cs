namespace AkkaCache.Core.Storage;

/// <summary>
/// The node's memory budget (<c>maxmemory</c>). Shards report the bytes they allocate or release here; this happens
/// only when a shard's arrays change size (amortised growth), never per command, so the shared counter is not a hot spot.
/// </summary>
public sealed class MemoryBudget
{
    private long _allocated;
    private long _limit;

    public MemoryBudget(long limit = 0) => _limit = limit;

    /// <summary>Bytes allowed in all shards together; 0 means unlimited.</summary>
    public long Limit
    {
        get => Volatile.Read(ref _limit);
        set => Volatile.Write(ref _limit, value);
    }

    public long Allocated => Volatile.Read(ref _allocated);

    internal void Add(long delta) => Interlocked.Add(ref _allocated, delta);

    internal bool CanGrow(long delta)
    {
        long limit = Limit;
        return limit <= 0 || Allocated + delta <= limit;
    }

    internal bool IsOverLimit
    {
        get
        {
            long limit = Limit;
            return limit > 0 && Allocated > limit;
        }
    }
}
