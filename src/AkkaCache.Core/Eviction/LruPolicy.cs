namespace AkkaCache.Core.Eviction;

/// <summary>
/// <c>allkeys-lru</c> and <c>volatile-lru</c>: exact LRU as a doubly-linked list of ids by recency
/// (head = least recently used). The volatile variant links only entries with an expiry; an entry
/// joins or leaves the list when <see cref="OnUpdate"/> gives or takes its TTL.
/// Memory: 8 bytes per id (int prev + int next).
/// </summary>
internal sealed class LruPolicy : EvictionPolicy
{
    private readonly bool _volatileOnly;
    private int[] _prev = [];
    private int[] _next = [];
    private IdListEnds _list = IdListEnds.Empty;

    public LruPolicy(long maximumWeight, bool volatileOnly)
        : base(maximumWeight)
    {
        _volatileOnly = volatileOnly;
    }

    public override EvictionPolicyKind Kind => _volatileOnly ? EvictionPolicyKind.VolatileLru : EvictionPolicyKind.AllKeysLru;

    public override void EnsureCapacity(int idCapacity)
    {
        if (idCapacity <= _prev.Length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(idCapacity);
            return;
        }

        int old = _prev.Length;
        int size = GrowCapacity(old, idCapacity);
        Array.Resize(ref _prev, size);
        Array.Resize(ref _next, size);
        _prev.AsSpan(old).Fill(IdList.Unlinked);
        _next.AsSpan(old).Fill(IdList.None);
    }

    public override void OnInsert(int id, uint keyHash, long weight, long expireAtMs)
    {
        EnsureCapacity(id + 1);
        if (IdList.IsLinked(_prev, id))
        {
            IdList.Remove(ref _list, _prev, _next, id);
        }

        if (!_volatileOnly || expireAtMs != 0)
        {
            IdList.AddLast(ref _list, _prev, _next, id);
        }
    }

    public override void OnAccess(int id)
    {
        if ((uint)id < (uint)_prev.Length && IdList.IsLinked(_prev, id))
        {
            IdList.MoveToLast(ref _list, _prev, _next, id);
        }
    }

    public override void OnMiss(uint keyHash)
    {
    }

    public override void OnUpdate(int id, long weight, long expireAtMs)
    {
        EnsureCapacity(id + 1);
        bool linked = IdList.IsLinked(_prev, id);
        if (_volatileOnly && expireAtMs == 0)
        {
            if (linked)
            {
                IdList.Remove(ref _list, _prev, _next, id);
            }
        }
        else if (linked)
        {
            IdList.MoveToLast(ref _list, _prev, _next, id);
        }
        else
        {
            IdList.AddLast(ref _list, _prev, _next, id);
        }
    }

    public override void OnRemove(int id)
    {
        if ((uint)id < (uint)_prev.Length && IdList.IsLinked(_prev, id))
        {
            IdList.Remove(ref _list, _prev, _next, id);
        }
    }

    public override int SelectVictim() => _list.Head;

    public override int Frequency(int id) => 0;

    public override void Clear()
    {
        _prev.AsSpan().Fill(IdList.Unlinked);
        _next.AsSpan().Fill(IdList.None);
        _list = IdListEnds.Empty;
    }
}
