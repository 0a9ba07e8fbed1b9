using AkkaCache.Core.Eviction;

namespace AkkaCache.Core.Tests.Eviction;

/// <summary>A tiny owner for tests: key → id map, unit or given weights, evicts after inserting while over the budget.</summary>
internal sealed class PolicyHarness
{
    private readonly Dictionary<long, int> _ids = new();
    private readonly Dictionary<int, long> _keys = new();
    private readonly Dictionary<int, long> _weights = new();
    private readonly Stack<int> _free = new();
    private int _nextId;

    public PolicyHarness(EvictionPolicy policy, long budget, bool evictBeforeInsert = false)
    {
        Policy = policy;
        Budget = budget;
        EvictBeforeInsert = evictBeforeInsert;
        policy.EnsureCapacity(16);
    }

    public EvictionPolicy Policy { get; }

    public long Budget { get; set; }

    public bool EvictBeforeInsert { get; }

    public long UsedWeight { get; private set; }

    public int Count => _ids.Count;

    public int PeakCount { get; private set; }

    public int AllocatedIds => _nextId;

    public List<long> Evicted { get; } = [];

    public bool Contains(long key) => _ids.ContainsKey(key);

    public int IdOf(long key) => _ids[key];

    public IEnumerable<int> LiveIds => _keys.Keys;

    public static uint Hash(long key)
    {
        ulong z = unchecked((ulong)key * 0x9E37_79B9_7F4A_7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL);
        z ^= z >> 31;
        return (uint)(z ^ (z >> 32));
    }

    /// <summary>A read: hit → OnAccess, miss → OnMiss then insert. Returns whether it hit.</summary>
    public bool Get(long key, long weight = 1, long expireAt = 0)
    {
        if (_ids.TryGetValue(key, out int id))
        {
            Policy.OnAccess(id);
            return true;
        }

        Policy.OnMiss(Hash(key));
        Insert(key, weight, expireAt);
        return false;
    }

    /// <summary>A write of a new key (no preceding miss) or an update of an existing one.</summary>
    public void Set(long key, long weight = 1, long expireAt = 0)
    {
        if (_ids.TryGetValue(key, out int id))
        {
            UsedWeight += weight - _weights[id];
            _weights[id] = weight;
            Policy.OnUpdate(id, weight, expireAt);
            EvictWhileOver(0);
            return;
        }

        Insert(key, weight, expireAt);
    }

    public void Delete(long key)
    {
        if (_ids.TryGetValue(key, out int id))
        {
            RemoveId(id);
        }
    }

    /// <summary>Evicts while over budget (plus room for <paramref name="incoming"/>); returns false when the policy gives no victim.</summary>
    public bool EvictWhileOver(long incoming)
    {
        while (UsedWeight + incoming > Budget && _ids.Count > 0)
        {
            int victim = Policy.SelectVictim();
            if (victim < 0)
            {
                return false;
            }

            Assert.True(_keys.ContainsKey(victim), $"victim {victim} is not a live id");
            Evicted.Add(_keys[victim]);
            RemoveId(victim);
        }

        return true;
    }

    private void Insert(long key, long weight, long expireAt)
    {
        if (EvictBeforeInsert)
        {
            EvictWhileOver(weight);
        }

        int id = _free.Count > 0 ? _free.Pop() : _nextId++;
        Policy.EnsureCapacity(id + 1);
        _ids[key] = id;
        _keys[id] = key;
        _weights[id] = weight;
        UsedWeight += weight;
        Policy.OnInsert(id, Hash(key), weight, expireAt);
        PeakCount = Math.Max(PeakCount, _ids.Count);
        if (!EvictBeforeInsert)
        {
            EvictWhileOver(0);
        }
    }

    private void RemoveId(int id)
    {
        long key = _keys[id];
        _keys.Remove(id);
        _ids.Remove(key);
        UsedWeight -= _weights[id];
        _weights.Remove(id);
        Policy.OnRemove(id);
        _free.Push(id);
    }
}
