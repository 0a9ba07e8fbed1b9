namespace AkkaCache.Core.Eviction;

/// <summary>The Redis <c>maxmemory-policy</c> values.</summary>
public enum EvictionPolicyKind
{
    /// <summary><c>noeviction</c>: writes that need memory fail with -OOM.</summary>
    NoEviction,

    /// <summary><c>allkeys-lru</c>: least recently used among all keys.</summary>
    AllKeysLru,

    /// <summary><c>allkeys-lfu</c>: W-TinyLFU (adaptive window, segmented LRU main space, frequency admission).</summary>
    AllKeysLfu,

    /// <summary><c>allkeys-random</c>: uniformly random among all keys.</summary>
    AllKeysRandom,

    /// <summary><c>volatile-lru</c>: least recently used among keys with an expiry.</summary>
    VolatileLru,

    /// <summary><c>volatile-lfu</c>: least frequently used (sampled) among keys with an expiry.</summary>
    VolatileLfu,

    /// <summary><c>volatile-ttl</c>: the key with an expiry that expires soonest.</summary>
    VolatileTtl,

    /// <summary><c>volatile-random</c>: uniformly random among keys with an expiry.</summary>
    VolatileRandom,
}

/// <summary>Conversion between <see cref="EvictionPolicyKind"/> and Redis policy names.</summary>
public static class EvictionPolicyNames
{
    /// <summary>Parses a Redis <c>maxmemory-policy</c> name (case-insensitive, as Redis).</summary>
    public static bool TryParse(string redisName, out EvictionPolicyKind kind)
    {
        kind = EvictionPolicyKind.NoEviction;
        if (redisName is null)
        {
            return false;
        }

        ReadOnlySpan<char> name = redisName.AsSpan().Trim();
        for (int i = 0; i < Names.Length; i++)
        {
            if (name.Equals(Names[i], StringComparison.OrdinalIgnoreCase))
            {
                kind = (EvictionPolicyKind)i;
                return true;
            }
        }

        return false;
    }

    /// <summary>The Redis name of a policy, e.g. <c>allkeys-lru</c>.</summary>
    public static string ToRedisName(EvictionPolicyKind kind)
    {
        int index = (int)kind;
        if ((uint)index >= (uint)Names.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown eviction policy.");
        }

        return Names[index];
    }

    // Indexed by the enum value.
    private static readonly string[] Names =
    [
        "noeviction",
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-ttl",
        "volatile-random",
    ];
}
