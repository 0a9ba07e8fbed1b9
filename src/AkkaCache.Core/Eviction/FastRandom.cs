namespace AkkaCache.Core.Eviction;

/// <summary>Small deterministic PRNG (xorshift64*), a struct so it costs no allocation.</summary>
internal struct FastRandom
{
    private ulong _state;

    public FastRandom(int seed)
    {
        // SplitMix64 of the seed so that 0, 1, 2... give unrelated streams; never a zero state.
        ulong z = unchecked((ulong)seed + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        _state = z == 0 ? 0x2545F4914F6CDD1DUL : z;
    }

    public ulong NextUInt64()
    {
        ulong x = _state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        _state = x;
        return unchecked(x * 0x2545F4914F6CDD1DUL);
    }

    /// <summary>Uniform in [0, bound) for bound &gt; 0 (multiply-shift; bias below 2^-32).</summary>
    public int Next(int bound) => (int)(((NextUInt64() >> 32) * (ulong)(uint)bound) >> 32);
}
