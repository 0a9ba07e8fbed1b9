namespace AkkaCache.Core.Eviction;

/// <summary>
/// <c>volatile-lfu</c>: approximated LFU among the entries with an expiry, the way Redis approximates
/// it: <see cref="SelectVictim"/> samples <see cref="SampleCount"/> volatile entries (all of them when
/// there are that few) and evicts the one with the lowest frequency-sketch estimate, the least
/// recently used among equals. The sketch counts every key's reads, misses and writes (persistent
/// keys too, so OBJECT FREQ works for every key). Memory: 16 bytes per id (int key hash, int
/// last-access tick, int position + int dense slot of the volatile set) plus the shared sketch
/// (8 bytes per expected entry).
/// </summary>
internal sealed class VolatileLfuPolicy : EvictionPolicy
{
    internal const int SampleCount = 16;

    private readonly FrequencySketch _sketch = new(16);
    private DenseIdSet _volatile = DenseIdSet.Create();
    private uint[] _hash = [];
    private uint[] _lastAccess = [];
    private uint _clock;
    private FastRandom _random;
    private int _count;
    private bool _lastMissValid;
    private uint _lastMissHash;

    public VolatileLfuPolicy(long maximumWeight, int randomSeed)
        : base(maximumWeight)
    {
        _random = new FastRandom(randomSeed);
    }

    public override EvictionPolicyKind Kind => EvictionPolicyKind.VolatileLfu;

    public override void EnsureCapacity(int idCapacity)
    {
        if (idCapacity <= _hash.Length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(idCapacity);
            return;
        }

        int size = GrowCapacity(_hash.Length, idCapacity);
        Array.Resize(ref _hash, size);
        Array.Resize(ref _lastAccess, size);
        _volatile.Grow(size);
    }

    public override void OnInsert(int id, uint keyHash, long weight, long expireAtMs)
    {
        EnsureCapacity(id + 1);
        _hash[id] = keyHash;
        _lastAccess[id] = ++_clock;
        if (!(_lastMissValid && _lastMissHash == keyHash))
        {
            _sketch.Increment(keyHash);
        }

        _lastMissValid = false;
        _count++;
        _sketch.EnsureCapacity(_count);
        if (expireAtMs != 0)
        {
            _volatile.Add(id);
        }
        else
        {
            _volatile.Remove(id);
        }
    }

    public override void OnAccess(int id)
    {
        if ((uint)id >= (uint)_hash.Length)
        {
            return;
        }

        _lastMissValid = false;
        _lastAccess[id] = ++_clock;
        _sketch.Increment(_hash[id]);
    }

    public override void OnMiss(uint keyHash)
    {
        _sketch.Increment(keyHash);
        _lastMissHash = keyHash;
        _lastMissValid = true;
    }

    public override void OnUpdate(int id, long weight, long expireAtMs)
    {
        EnsureCapacity(id + 1);
        OnAccess(id);
        if (expireAtMs != 0)
        {
            _volatile.Add(id);
        }
        else
        {
            _volatile.Remove(id);
        }
    }

    public override void OnRemove(int id)
    {
        if ((uint)id < (uint)_hash.Length)
        {
            _volatile.Remove(id);
            if (_count > 0)
            {
                _count--;
            }
        }
    }

    public override int SelectVictim()
    {
        int n = _volatile.Count;
        if (n == 0)
        {
            return -1;
        }

        int best = -1;
        int bestFrequency = int.MaxValue;
        uint bestAge = 0;
        bool exhaustive = n <= SampleCount;
        int rounds = exhaustive ? n : SampleCount;
        for (int i = 0; i < rounds; i++)
        {
            int id = _volatile.At(exhaustive ? i : _random.Next(n));
            int frequency = _sketch.Frequency(_hash[id]);
            uint age = _clock - _lastAccess[id]; // wrap-safe
            if (frequency < bestFrequency || (frequency == bestFrequency && age > bestAge))
            {
                best = id;
                bestFrequency = frequency;
                bestAge = age;
            }
        }

        return best;
    }

    public override int Frequency(int id) => (uint)id < (uint)_hash.Length ? _sketch.Frequency(_hash[id]) : 0;

    public override void Clear()
    {
        _volatile.Clear();
        _sketch.Clear();
        _count = 0;
        _lastMissValid = false;
    }
}
