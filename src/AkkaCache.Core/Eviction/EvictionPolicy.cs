namespace AkkaCache.Core.Eviction;

/// <summary>
/// Eviction order of one shard's entries. Entries are dense int ids in [0, capacity) assigned and
/// reused by the owner. Single-threaded: only the owning shard actor calls it. After warm-up no
/// operation allocates (arrays only grow in <see cref="EnsureCapacity"/>, or when an id at or
/// beyond the capacity is inserted, or when the LFU frequency sketch grows with the entry count).
/// </summary>
/// <remarks>
/// Owner protocol: call <see cref="OnInsert"/> for a new entry, <see cref="OnAccess"/> on a read hit,
/// <see cref="OnMiss"/> on a read miss, <see cref="OnUpdate"/> when the value or TTL of a live entry
/// changes, and <see cref="OnRemove"/> for every removal (delete, expiry, eviction). While the used
/// weight exceeds the budget, call <see cref="SelectVictim"/>, remove that id and call
/// <see cref="OnRemove"/> for it; -1 means nothing is evictable (reply -OOM).
/// An <see cref="OnInsert"/> that immediately follows an <see cref="OnMiss"/> with the same key hash
/// (a read-through fill) is counted once by the frequency sketches, not twice.
/// </remarks>
public abstract class EvictionPolicy
{
    private long _maximumWeight;

    private protected EvictionPolicy(long maximumWeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maximumWeight);
        _maximumWeight = maximumWeight;
    }

    /// <summary>Creates the policy of a kind.</summary>
    /// <param name="kind">The policy.</param>
    /// <param name="maximumWeight">The budget: bytes in the engine, entries in the simulator.</param>
    /// <param name="randomSeed">Seed of the policy's pseudo-random generator (random kinds, sampling, admission jitter).</param>
    public static EvictionPolicy Create(EvictionPolicyKind kind, long maximumWeight, int randomSeed = 0) => kind switch
    {
        EvictionPolicyKind.NoEviction => new NoEvictionPolicy(maximumWeight),
        EvictionPolicyKind.AllKeysLru => new LruPolicy(maximumWeight, volatileOnly: false),
        EvictionPolicyKind.VolatileLru => new LruPolicy(maximumWeight, volatileOnly: true),
        EvictionPolicyKind.AllKeysLfu => new WindowTinyLfuPolicy(maximumWeight, randomSeed),
        EvictionPolicyKind.VolatileLfu => new VolatileLfuPolicy(maximumWeight, randomSeed),
        EvictionPolicyKind.AllKeysRandom => new RandomPolicy(maximumWeight, volatileOnly: false, randomSeed),
        EvictionPolicyKind.VolatileRandom => new RandomPolicy(maximumWeight, volatileOnly: true, randomSeed),
        EvictionPolicyKind.VolatileTtl => new VolatileTtlPolicy(maximumWeight),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown eviction policy."),
    };

    /// <summary>The policy kind.</summary>
    public abstract EvictionPolicyKind Kind { get; }

    /// <summary>
    /// The budget (bytes in the engine, entry count in the simulator). May change at runtime
    /// (CONFIG SET maxmemory); W-TinyLFU then resizes its regions and restarts its climber.
    /// </summary>
    public long MaximumWeight
    {
        get => _maximumWeight;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            if (value == _maximumWeight)
            {
                return;
            }

            _maximumWeight = value;
            OnMaximumWeightChanged();
        }
    }

    /// <summary>Makes room for ids in [0, idCapacity). Grows geometrically; never shrinks.</summary>
    public abstract void EnsureCapacity(int idCapacity);

    /// <summary>A new entry. <paramref name="expireAtMs"/> 0 = no expiry ("volatile" means non-zero).</summary>
    public abstract void OnInsert(int id, uint keyHash, long weight, long expireAtMs);

    /// <summary>A read hit.</summary>
    public abstract void OnAccess(int id);

    /// <summary>A read miss (frequency sketches count misses too).</summary>
    public abstract void OnMiss(uint keyHash);

    /// <summary>The value or TTL of a live entry changed; counts as an access.</summary>
    public abstract void OnUpdate(int id, long weight, long expireAtMs);

    /// <summary>The entry was removed (deleted, expired or evicted). No-op for an id the policy does not hold.</summary>
    public abstract void OnRemove(int id);

    /// <summary>The id to evict now, or -1 when nothing is evictable. Does not remove it: the owner calls <see cref="OnRemove"/>.</summary>
    public abstract int SelectVictim();

    /// <summary>For OBJECT FREQ: LFU kinds return the sketch's estimate (0..15, 4-bit counters); other kinds 0.</summary>
    public abstract int Frequency(int id);

    /// <summary>Forgets every entry (FLUSHDB). Keeps the capacity.</summary>
    public abstract void Clear();

    /// <summary>Called after <see cref="MaximumWeight"/> changed.</summary>
    private protected virtual void OnMaximumWeightChanged()
    {
    }

    /// <summary>Validates a weight and narrows it to the int stored per id.</summary>
    private protected static int ToStoredWeight(long weight)
    {
        if ((ulong)weight > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "An entry weight must be in [0, int.MaxValue].");
        }

        return (int)weight;
    }

    /// <summary>Geometric growth target for per-id arrays.</summary>
    private protected static int GrowCapacity(int current, int requested)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requested);
        long doubled = Math.Max(16L, (long)current * 2);
        return (int)Math.Min(Array.MaxLength, Math.Max(requested, doubled));
    }
}
