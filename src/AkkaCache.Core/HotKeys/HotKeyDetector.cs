namespace AkkaCache.Core.HotKeys;

/// <summary>A key's estimated access rate, as reported by <see cref="HotKeyDetector.Collect"/>.</summary>
public readonly record struct HotKey(byte[] Key, long OpsPerSecond, int Shard);

/// <summary>
/// Finds a shard's most accessed keys in bounded memory: a count-min sketch (4 rows, conservative update) estimates every
/// key's count, and the <see cref="Capacity"/> keys with the highest estimates are kept by name. Counts are halved at every
/// window boundary, so they follow the recent rate and a key that cools drops out. Only whoever has entered the shard
/// touches its detector, so nothing here is synchronised.
/// </summary>
public sealed class HotKeyDetector
{
    public const int Rows = 4;
    public const int DefaultWidth = 256;
    public const int DefaultCapacity = 16;

    /// <summary>Longer keys are counted but never named: a candidate's copy must stay small.</summary>
    public const int MaxKeyLength = 1024;

    private readonly int _width;
    private readonly int _mask;
    private readonly Candidate[] _top;
    private uint[]? _counters;     // allocated on first use: an idle shard keeps none (a node has 1024 shards)
    private int _topCount;
    private int _minSlot = -1;     // the candidate a newcomer must beat; -1 while slots are free
    private long _windowStartMs;
    private long _total;
    private double _admitShare;
    private long _admitCount;

    /// <param name="windowMs">Counts are halved every window: about twice the window is remembered.</param>
    /// <param name="width">Counters per row (a power of two); the estimate errs by at most about e/width of the shard's traffic.</param>
    /// <param name="thresholds">
    /// When given, a key is only named once its estimate could make it hot: at least the threshold's share of this shard's
    /// accesses (the node's are more) and its rate over one window. Without it, when no key stands out, every access
    /// would replace the weakest candidate — a key copy per access for nothing.
    /// </param>
    public HotKeyDetector(long windowMs, long nowMs, int width = DefaultWidth, int capacity = DefaultCapacity, HotKeyThresholds? thresholds = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowMs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 1 << 16);
        if ((width & (width - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(width), width, "expected a power of two");
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        WindowMs = windowMs;
        _width = width;
        _mask = width - 1;
        _top = new Candidate[capacity];
        _windowStartMs = nowMs;
        if (thresholds is not null) Admit(thresholds);
    }

    /// <summary>
    /// Names only keys that could be hot under <paramref name="thresholds"/>. May be called from another thread than the
    /// shard's (CONFIG SET): each field is written whole, and a shard admitting by the old values a moment longer is harmless.
    /// </summary>
    public void Admit(HotKeyThresholds thresholds)
    {
        Volatile.Write(ref _admitShare, thresholds.Share);
        Volatile.Write(ref _admitCount, (long)Math.Min(thresholds.MinRate * (WindowMs / 1000.0), uint.MaxValue));
    }

    public long WindowMs { get; }
    public int Width => _width;
    public int Capacity => _top.Length;

    /// <summary>Candidates currently named (at most <see cref="Capacity"/>).</summary>
    public int CandidateCount => _topCount;

    /// <summary>Accesses counted, decayed like the keys' counts.</summary>
    public long Total => _total;

    /// <summary>Counts one access. <paramref name="hash"/> is the key's <see cref="Storage.EntryTable.Hash"/>.</summary>
    public void Record(ReadOnlySpan<byte> key, uint hash, long nowMs)
    {
        if (nowMs - _windowStartMs >= WindowMs) Advance(nowMs);
        _total++;
        var counters = _counters ??= new uint[Rows * _width];
        ulong h = Eviction.FrequencySketch.Spread(hash);
        int i0 = (int)h & _mask;
        int i1 = _width + ((int)(h >> 16) & _mask);
        int i2 = 2 * _width + ((int)(h >> 32) & _mask);
        int i3 = 3 * _width + ((int)(h >> 48) & _mask);
        uint min = Math.Min(Math.Min(counters[i0], counters[i1]), Math.Min(counters[i2], counters[i3]));
        if (min == uint.MaxValue) return;
        uint estimate = min + 1;
        // conservative update: only the counters at the minimum move, which keeps the others' overestimate from growing
        if (counters[i0] < estimate) counters[i0] = estimate;
        if (counters[i1] < estimate) counters[i1] = estimate;
        if (counters[i2] < estimate) counters[i2] = estimate;
        if (counters[i3] < estimate) counters[i3] = estimate;
        // a member's stored count never exceeds its estimate, so a key not above the weakest member changes nothing
        if (_minSlot >= 0 && estimate <= _top[_minSlot].Count) return;
        // under the floor a key cannot be hot at report time (its rate is at most count per window), so skipping its
        // update loses nothing: it is named, or updated, on the access that lifts it over
        if (estimate < _admitCount || estimate < _admitShare * _total) return;
        Offer(key, hash, estimate);
    }

    /// <summary>The sketch's estimate of a key's count in the current, decayed history (never below the true count).</summary>
    public long Estimate(uint hash, long nowMs)
    {
        if (nowMs - _windowStartMs >= WindowMs) Advance(nowMs);
        if (_counters is not { } counters) return 0;
        ulong h = Eviction.FrequencySketch.Spread(hash);
        return Math.Min(
            Math.Min(counters[(int)h & _mask], counters[_width + ((int)(h >> 16) & _mask)]),
            Math.Min(counters[2 * _width + ((int)(h >> 32) & _mask)], counters[3 * _width + ((int)(h >> 48) & _mask)]));
    }

    /// <summary>
    /// A decayed count as a rate: after a halving a steady rate r leaves r·W, and the window so far adds r·elapsed,
    /// so count / (W + elapsed) recovers r. A key that just started is underestimated, never over.
    /// </summary>
    public long RateOf(long count, long nowMs)
    {
        long elapsed = Math.Clamp(nowMs - _windowStartMs, 0, WindowMs);
        return (long)(count * 1000.0 / (WindowMs + elapsed));
    }

    /// <summary>The shard's whole access rate (per second), on the same footing as the keys' rates.</summary>
    public long TotalRate(long nowMs)
    {
        if (nowMs - _windowStartMs >= WindowMs) Advance(nowMs);
        return RateOf(_total, nowMs);
    }

    /// <summary>Adds every candidate at or above <paramref name="minRate"/> ops/s (its key copied) to <paramref name="into"/>.</summary>
    public void Collect(long nowMs, long minRate, int shard, List<HotKey> into)
    {
        if (nowMs - _windowStartMs >= WindowMs) Advance(nowMs);
        for (int i = 0; i < _topCount; i++)
        {
            ref var candidate = ref _top[i];
            long rate = RateOf(candidate.Count, nowMs);
            if (rate > 0 && rate >= minRate) into.Add(new HotKey(candidate.Key.AsSpan(0, candidate.Length).ToArray(), rate, shard));
        }
    }

    /// <summary>
    /// How many candidates run at <paramref name="minRate"/> or more, read without entering the shard (for INFO): it
    /// only reads, decaying on the fly rather than in place, so a racing access can at worst make the answer a moment old.
    /// </summary>
    public int PeekCountAtLeast(long nowMs, long minRate)
    {
        int count = 0;
        int candidates = Math.Min(Volatile.Read(ref _topCount), _top.Length);
        for (int i = 0; i < candidates; i++)
            if (PeekRate(Volatile.Read(ref _top[i].Count), nowMs) is var rate && rate > 0 && rate >= minRate) count++;
        return count;
    }

    /// <summary><see cref="TotalRate"/> without entering the shard: see <see cref="PeekCountAtLeast"/>.</summary>
    public long PeekTotalRate(long nowMs) => PeekRate(Volatile.Read(ref _total), nowMs);

    private long PeekRate(long count, long nowMs)
    {
        long since = nowMs - Volatile.Read(ref _windowStartMs);
        long windows = Math.Max(since / WindowMs, 0);
        if (windows >= 32) return 0;
        long elapsed = Math.Clamp(since - windows * WindowMs, 0, WindowMs);
        return (long)((count >> (int)windows) * 1000.0 / (WindowMs + elapsed));
    }

    public void Clear()
    {
        if (_counters is not null) Array.Clear(_counters);
        _total = 0;
        ClearCandidates();
    }

    private void ClearCandidates()
    {
        for (int i = 0; i < _topCount; i++) _top[i].Count = 0;
        _topCount = 0;
        _minSlot = -1;
    }

    private void Offer(ReadOnlySpan<byte> key, uint hash, long estimate)
    {
        for (int i = 0; i < _topCount; i++)
        {
            ref var candidate = ref _top[i];
            if (candidate.Hash == hash && key.SequenceEqual(candidate.Key.AsSpan(0, candidate.Length)))
            {
                candidate.Count = estimate;
                if (i == _minSlot) FindMin();
                return;
            }
        }
        if (key.Length > MaxKeyLength) return;
        int slot = _topCount < _top.Length ? _topCount++ : _minSlot;
        ref var entry = ref _top[slot];
        // a slot's buffer is reused by the keys that take it over: naming a new candidate rarely allocates
        if (entry.Key is null || entry.Key.Length < key.Length) entry.Key = new byte[Math.Max(key.Length, 16)];
        key.CopyTo(entry.Key);
        entry.Length = key.Length;
        entry.Hash = hash;
        entry.Count = estimate;
        if (_topCount == _top.Length) FindMin();
    }

    private void FindMin()
    {
        int min = 0;
        for (int i = 1; i < _topCount; i++)
            if (_top[i].Count < _top[min].Count) min = i;
        _minSlot = min;
    }

    /// <summary>Halves everything once per window boundary passed; a shard idle for a long time simply starts over.</summary>
    private void Advance(long nowMs)
    {
        long windows = (nowMs - _windowStartMs) / WindowMs;
        _windowStartMs += windows * WindowMs;
        if (windows >= 32)
        {
            Clear();
            return;
        }
        int shift = (int)windows;
        if (_counters is { } counters)
            for (int i = 0; i < counters.Length; i++) counters[i] >>= shift;
        _total >>= shift;
        int kept = 0;
        for (int i = 0; i < _topCount; i++)
        {
            long count = _top[i].Count >> shift;
            if (count == 0) continue;
            if (kept != i) (_top[kept], _top[i]) = (_top[i], _top[kept]); // swaps, so the dropped slot's buffer is kept for reuse
            _top[kept].Count = count;
            kept++;
        }
        _topCount = kept;
        _minSlot = -1;
        if (_topCount == _top.Length) FindMin();
    }

    private struct Candidate
    {
        public byte[] Key;
        public int Length;
        public uint Hash;
        public long Count;
    }
}
