namespace AkkaCache.Core.Eviction;

/// <summary>
/// <c>allkeys-random</c> and <c>volatile-random</c>: uniform choice among the candidate ids, kept in
/// a dense array with swap-remove and a position index. The volatile variant holds only entries with
/// an expiry. Memory: 8 bytes per id (int position + int dense slot).
/// </summary>
internal sealed class RandomPolicy : EvictionPolicy
{
    private readonly bool _volatileOnly;
    private DenseIdSet _set;
    private FastRandom _random;

    public RandomPolicy(long maximumWeight, bool volatileOnly, int randomSeed)
        : base(maximumWeight)
    {
        _volatileOnly = volatileOnly;
        _set = DenseIdSet.Create();
        _random = new FastRandom(randomSeed);
    }

    public override EvictionPolicyKind Kind => _volatileOnly ? EvictionPolicyKind.VolatileRandom : EvictionPolicyKind.AllKeysRandom;

    public override void EnsureCapacity(int idCapacity)
    {
        if (idCapacity > _set.Capacity)
        {
            _set.Grow(GrowCapacity(_set.Capacity, idCapacity));
        }
        else
        {
            ArgumentOutOfRangeException.ThrowIfNegative(idCapacity);
        }
    }

    public override void OnInsert(int id, uint keyHash, long weight, long expireAtMs)
    {
        EnsureCapacity(id + 1);
        if (!_volatileOnly || expireAtMs != 0)
        {
            _set.Add(id);
        }
        else
        {
            _set.Remove(id);
        }
    }

    public override void OnAccess(int id)
    {
    }

    public override void OnMiss(uint keyHash)
    {
    }

    public override void OnUpdate(int id, long weight, long expireAtMs) => OnInsert(id, 0, weight, expireAtMs);

    public override void OnRemove(int id)
    {
        if ((uint)id < (uint)_set.Capacity)
        {
            _set.Remove(id);
        }
    }

    public override int SelectVictim() => _set.Count == 0 ? -1 : _set.At(_random.Next(_set.Count));

    public override int Frequency(int id) => 0;

    public override void Clear() => _set.Clear();
}

/// <summary>A set of ids as a dense array plus a position index (-1 = absent). O(1) add, remove, pick by index.</summary>
internal struct DenseIdSet
{
    private int[] _dense;
    private int[] _position;

    public static DenseIdSet Create() => new() { _dense = [], _position = [] };

    public int Count { get; private set; }

    public readonly int Capacity => _position.Length;

    public void Grow(int capacity)
    {
        int old = _position.Length;
        Array.Resize(ref _position, capacity);
        Array.Resize(ref _dense, capacity);
        _position.AsSpan(old).Fill(-1);
    }

    public readonly int At(int index) => _dense[index];

    /// <summary>Adds the id; no-op when present.</summary>
    public void Add(int id)
    {
        if (_position[id] >= 0)
        {
            return;
        }

        _position[id] = Count;
        _dense[Count++] = id;
    }

    /// <summary>Removes the id; no-op when absent.</summary>
    public void Remove(int id)
    {
        int at = _position[id];
        if (at < 0)
        {
            return;
        }

        int last = _dense[--Count];
        _dense[at] = last;
        _position[last] = at;
        _position[id] = -1;
    }

    public void Clear()
    {
        for (int i = 0; i < Count; i++)
        {
            _position[_dense[i]] = -1;
        }

        Count = 0;
    }
}
