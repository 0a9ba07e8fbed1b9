using System.Numerics;
using System.Runtime.CompilerServices;

namespace AkkaCache.Core.Eviction;

/// <summary>
/// Count-min sketch of 4-bit counters estimating how often a key hash was seen recently (0..15).
/// One 64-bit word (16 counters) per expected entry; each key maps to 4 counters in 4 different
/// words of one 64-byte block (one cache line). Aging: after <see cref="SampleSize"/> increments
/// (5 per expected entry by default) every counter is halved, so the history favours recent popularity.
/// </summary>
internal sealed class FrequencySketch
{
    private const ulong LowBitOfEachCounter = 0x1111_1111_1111_1111UL;
    private const ulong HalvingMask = 0x7777_7777_7777_7777UL;
    private const int MinimumCapacity = 64;
    private const int MaximumCapacity = 1 << 24; // 128 MB of counters at most

    /// <summary>Aging period used by the policies, in increments per expected entry (Caffeine uses 10; 5 measured better on the traces).</summary>
    public const int DefaultSamplesPerEntry = 5;

    private readonly int _samplesPerEntry;
    private ulong[] _table = [];
    private int _blockMask;
    private int _size;

    /// <param name="expectedEntries">Initial sizing; grows with <see cref="EnsureCapacity"/>.</param>
    /// <param name="samplesPerEntry">Aging period: increments per expected entry between two halvings.</param>
    public FrequencySketch(int expectedEntries, int samplesPerEntry = DefaultSamplesPerEntry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerEntry, 1);
        _samplesPerEntry = samplesPerEntry;
        Resize(expectedEntries);
    }

    /// <summary>Expected entries the table is sized for (a power of two).</summary>
    public int Capacity { get; private set; }

    /// <summary>Increments between two halvings.</summary>
    public int SampleSize { get; private set; }

    /// <summary>Increments since the last halving (halved with the counters).</summary>
    public int Size => _size;

    /// <summary>
    /// Grows the table when <paramref name="expectedEntries"/> exceeds the capacity by a margin (so a
    /// momentary overshoot, insert before evict, does not double it). Growth keeps every estimate: a key's
    /// block index is its hash masked by the block count, so each new block starts as a copy of the old
    /// block it extends, and the key finds the same counters it had.
    /// </summary>
    public void EnsureCapacity(int expectedEntries)
    {
        if (expectedEntries > Capacity + (Capacity >> 2) && Capacity < MaximumCapacity)
        {
            Resize(expectedEntries);
        }
    }

    private void Resize(int expectedEntries)
    {
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(expectedEntries, MinimumCapacity, MaximumCapacity));
        ulong[] old = _table;
        var table = new ulong[capacity];
        if (old.Length != 0)
        {
            for (int at = 0; at < capacity; at += old.Length)
            {
                old.CopyTo(table, at);
            }
        }

        _table = table;
        _blockMask = (capacity >> 3) - 1;
        Capacity = capacity;
        SampleSize = (int)Math.Min(int.MaxValue, (long)_samplesPerEntry * capacity);
    }

    public void Increment(uint keyHash)
    {
        ulong h = Spread(keyHash);
        ulong[] table = _table;
        int block = ((int)h & _blockMask) << 3;
        uint selector = (uint)(h >> 32);
        bool added = false;
        for (int i = 0; i < 4; i++)
        {
            uint bits = selector >> (i << 3);
            int word = block + (i << 1) + (int)(bits & 1);
            int shift = (int)((bits >> 1) & 15) << 2;
            ulong counter = (table[word] >> shift) & 0xF;
            if (counter != 0xF)
            {
                table[word] += 1UL << shift;
                added = true;
            }
        }

        if (added && ++_size >= SampleSize)
        {
            Halve();
        }
    }

    public int Frequency(uint keyHash)
    {
        ulong h = Spread(keyHash);
        ulong[] table = _table;
        int block = ((int)h & _blockMask) << 3;
        uint selector = (uint)(h >> 32);
        int min = 15;
        for (int i = 0; i < 4; i++)
        {
            uint bits = selector >> (i << 3);
            int word = block + (i << 1) + (int)(bits & 1);
            int shift = (int)((bits >> 1) & 15) << 2;
            int counter = (int)((table[word] >> shift) & 0xF);
            if (counter < min)
            {
                min = counter;
            }
        }

        return min;
    }

    public void Clear()
    {
        Array.Clear(_table);
        _size = 0;
    }

    private void Halve()
    {
        ulong[] table = _table;
        int oddCounters = 0;
        for (int i = 0; i < table.Length; i++)
        {
            ulong word = table[i];
            oddCounters += BitOperations.PopCount(word & LowBitOfEachCounter);
            table[i] = (word >> 1) & HalvingMask;
        }

        // Each increment touched 4 counters; halving drops the odd remainders, a quarter of them per increment.
        _size = (_size - (oddCounters >> 2)) >> 1;
    }

    /// <summary>Spreads a key's 32-bit hash over 64 bits (splitmix64's finaliser): each 16-bit slice picks one sketch row's counter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Spread(uint keyHash)
    {
        ulong x = unchecked((keyHash + 0x9E37_79B9_7F4A_7C15UL) * 0xBF58_476D_1CE4_E5B9UL);
        x ^= x >> 31;
        x = unchecked(x * 0x94D0_49BB_1331_11EBUL);
        x ^= x >> 29;
        return x;
    }
}
