namespace AkkaCache.Core.Eviction;

/// <summary><c>noeviction</c>: keeps no per-id state (0 bytes per id); never selects a victim.</summary>
internal sealed class NoEvictionPolicy : EvictionPolicy
{
    public NoEvictionPolicy(long maximumWeight)
        : base(maximumWeight)
    {
    }

    public override EvictionPolicyKind Kind => EvictionPolicyKind.NoEviction;

    public override void EnsureCapacity(int idCapacity) => ArgumentOutOfRangeException.ThrowIfNegative(idCapacity);

    public override void OnInsert(int id, uint keyHash, long weight, long expireAtMs)
    {
    }

    public override void OnAccess(int id)
    {
    }

    public override void OnMiss(uint keyHash)
    {
    }

    public override void OnUpdate(int id, long weight, long expireAtMs)
    {
    }

    public override void OnRemove(int id)
    {
    }

    public override int SelectVictim() => -1;

    public override int Frequency(int id) => 0;

    public override void Clear()
    {
    }
}
