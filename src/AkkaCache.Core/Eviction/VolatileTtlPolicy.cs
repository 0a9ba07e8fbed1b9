namespace AkkaCache.Core.Eviction;

/// <summary>
/// <c>volatile-ttl</c>: exact, not sampled. A binary min-heap of the entries with an expiry, keyed by
/// expiry time, with a position index; <see cref="SelectVictim"/> is O(1) (the heap top), insert,
/// TTL change and remove are O(log n), reads are free. Ties: any of them.
/// Memory: 16 bytes per id (long expiry + int heap position + int heap slot).
/// </summary>
internal sealed class VolatileTtlPolicy : EvictionPolicy
{
    private int[] _heap = [];
    private int[] _position = [];
    private long[] _expireAt = [];
    private int _count;

    public VolatileTtlPolicy(long maximumWeight)
        : base(maximumWeight)
    {
    }

    public override EvictionPolicyKind Kind => EvictionPolicyKind.VolatileTtl;

    public override void EnsureCapacity(int idCapacity)
    {
        if (idCapacity <= _position.Length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(idCapacity);
            return;
        }

        int old = _position.Length;
        int size = GrowCapacity(old, idCapacity);
        Array.Resize(ref _heap, size);
        Array.Resize(ref _position, size);
        Array.Resize(ref _expireAt, size);
        _position.AsSpan(old).Fill(-1);
    }

    public override void OnInsert(int id, uint keyHash, long weight, long expireAtMs) => SetExpiry(id, expireAtMs);

    public override void OnAccess(int id)
    {
    }

    public override void OnMiss(uint keyHash)
    {
    }

    public override void OnUpdate(int id, long weight, long expireAtMs) => SetExpiry(id, expireAtMs);

    public override void OnRemove(int id)
    {
        if ((uint)id < (uint)_position.Length && _position[id] >= 0)
        {
            RemoveAt(_position[id]);
        }
    }

    public override int SelectVictim() => _count == 0 ? -1 : _heap[0];

    public override int Frequency(int id) => 0;

    public override void Clear()
    {
        for (int i = 0; i < _count; i++)
        {
            _position[_heap[i]] = -1;
        }

        _count = 0;
    }

    private void SetExpiry(int id, long expireAtMs)
    {
        EnsureCapacity(id + 1);
        int at = _position[id];
        if (expireAtMs == 0)
        {
            if (at >= 0)
            {
                RemoveAt(at);
            }

            return;
        }

        if (at < 0)
        {
            _expireAt[id] = expireAtMs;
            at = _count++;
            _heap[at] = id;
            _position[id] = at;
            SiftUp(at);
            return;
        }

        long old = _expireAt[id];
        if (old == expireAtMs)
        {
            return;
        }

        _expireAt[id] = expireAtMs;
        if (expireAtMs < old)
        {
            SiftUp(at);
        }
        else
        {
            SiftDown(at);
        }
    }

    private void RemoveAt(int at)
    {
        int id = _heap[at];
        _position[id] = -1;
        int lastIndex = --_count;
        if (at == lastIndex)
        {
            return;
        }

        int last = _heap[lastIndex];
        _heap[at] = last;
        _position[last] = at;
        if (at > 0 && _expireAt[last] < _expireAt[_heap[(at - 1) >> 1]])
        {
            SiftUp(at);
        }
        else
        {
            SiftDown(at);
        }
    }

    private void SiftUp(int at)
    {
        int id = _heap[at];
        long key = _expireAt[id];
        while (at > 0)
        {
            int parentAt = (at - 1) >> 1;
            int parent = _heap[parentAt];
            if (_expireAt[parent] <= key)
            {
                break;
            }

            _heap[at] = parent;
            _position[parent] = at;
            at = parentAt;
        }

        _heap[at] = id;
        _position[id] = at;
    }

    private void SiftDown(int at)
    {
        int id = _heap[at];
        long key = _expireAt[id];
        int count = _count;
        while (true)
        {
            int child = (at << 1) + 1;
            if (child >= count)
            {
                break;
            }

            int right = child + 1;
            if (right < count && _expireAt[_heap[right]] < _expireAt[_heap[child]])
            {
                child = right;
            }

            int childId = _heap[child];
            if (_expireAt[childId] >= key)
            {
                break;
            }

            _heap[at] = childId;
            _position[childId] = at;
            at = child;
        }

        _heap[at] = id;
        _position[id] = at;
    }
}
