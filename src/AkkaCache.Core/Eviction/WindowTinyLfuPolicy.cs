namespace AkkaCache.Core.Eviction;

/// <summary>Tuning of <see cref="WindowTinyLfuPolicy"/>. The defaults are the production values.</summary>
internal sealed record WindowTinyLfuSettings
{
    public static WindowTinyLfuSettings Default { get; } = new();

    /// <summary>Admission window share of the maximum at start (and after a maximum change).</summary>
    public double InitialWindowFraction { get; init; } = 0.01;

    /// <summary>Protected segment share of the main space.</summary>
    public double ProtectedFraction { get; init; } = 0.80;

    /// <summary>Whether the hill climber resizes the window.</summary>
    public bool Adaptive { get; init; } = true;

    /// <summary>Longest climber sample period, in requests (hits + misses) per entry the frequency sketch is sized for.</summary>
    public double SamplePerEntry { get; init; } = 10;

    /// <summary>First climber sample period (same unit); it grows towards <see cref="SamplePerEntry"/> and restarts with the step.</summary>
    public double InitialSamplePerEntry { get; init; } = 10;

    /// <summary>Factor applied to the sample period after each sample.</summary>
    public double SampleGrowth { get; init; } = 1;

    /// <summary>Climber step, as a share of the maximum, at start and after a restart.</summary>
    public double StepFraction { get; init; } = 0.0625;

    /// <summary>Factor applied to the step after every sample without a restart.</summary>
    public double StepDecay { get; init; } = 0.98;

    /// <summary>A hit-rate change (absolute, 0..1) at least this large restarts the step at full size.</summary>
    public double RestartThreshold { get; init; } = 0.05;

    /// <summary>Direction of the climber's first step: -1 shrinks the window first, +1 grows it.</summary>
    public double InitialStepSign { get; init; } = -1;

    /// <summary>Whether the climber samples only once the cache is full (else from half full).</summary>
    public bool SampleOnlyWhenFull { get; init; }

    /// <summary>Whether a warm candidate that loses to a hot victim is admitted 1 time in 128.</summary>
    public bool AdmitJitter { get; init; } = true;

    /// <summary>Aging period of the frequency sketch, in increments per expected entry.</summary>
    public int SketchSamplesPerEntry { get; init; } = FrequencySketch.DefaultSamplesPerEntry;

    public int JitterCandidateMin { get; init; } = 1;

    public int JitterVictimMin { get; init; } = 12;

    public int JitterMask { get; init; } = 127;

    /// <summary>Whether the first climber sample only sets the baseline hit rate (else it is compared with 0).</summary>
    public bool BaselineFirstSample { get; init; }

    /// <summary>Whether the window may grow past the protected share into the probation share (up to all but one unit).</summary>
    public bool WindowMayTakeProbation { get; init; }

    /// <summary>Whether a step towards a limit the window already sits at is turned around.</summary>
    public bool BounceAtLimits { get; init; }
}

/// <summary>
/// <c>allkeys-lfu</c>: W-TinyLFU after Caffeine's design (own implementation).
/// <list type="bullet">
/// <item>New entries enter an LRU admission window (1% of the maximum at first).</item>
/// <item>The main space is a segmented LRU: probation (20%) and protected (80%); a hit in probation
/// promotes to protected, protected overflow is demoted to probation's most-recent end.</item>
/// <item>When the window is over its share and the cache must evict, the window's least recent entry
/// (the candidate) competes with probation's least recent entry (the victim) by their estimated
/// frequency in a 4-bit count-min sketch; the loser is evicted. The candidate wins only with a strictly
/// higher frequency; a warm candidate (frequency &gt;= 6) that loses is still admitted 1 time in 128 so
/// that colliding hashes cannot pin a victim forever.</item>
/// <item>A hill climber samples the hit rate (hits = <see cref="OnAccess"/>, misses =
/// <see cref="OnMiss"/>) over periods of 10 requests per sketch entry, and moves the window/main
/// split by a step of 6.25% of the maximum in the direction that improved the hit rate; the step decays
/// by 0.98 per period and restarts at full size when the hit rate changes by 5 points or more.
/// Entries change region in bounded batches (at most 1000 moves per operation).</item>
/// </list>
/// Everything is weighted: regions are sized by the sum of their entries' weights.
/// Memory: 17 bytes per id (int prev + int next + int weight + int key hash + byte region) plus the
/// frequency sketch, 8 bytes per expected entry (sized by the live entry count, rounded to a power of two).
/// </summary>
internal sealed class WindowTinyLfuPolicy : EvictionPolicy
{
    internal const byte InNone = 0;
    internal const byte InWindow = 1;
    internal const byte InProbation = 2;
    internal const byte InProtected = 3;

    private const int TransferBudget = 1000;
    private const int AdmitJitterThreshold = 6;
    private const int HotVictimThreshold = 12;

    private readonly WindowTinyLfuSettings _settings;
    private readonly FrequencySketch _sketch;
    private FastRandom _random;

    private int[] _prev = [];
    private int[] _next = [];
    private int[] _weight = [];
    private uint[] _hash = [];
    private byte[] _region = [];

    private IdListEnds _window = IdListEnds.Empty;
    private IdListEnds _probation = IdListEnds.Empty;
    private IdListEnds _protected = IdListEnds.Empty;
    private long _windowWeight;
    private long _probationWeight;
    private long _protectedWeight;
    private long _windowMaximum;
    private long _protectedMaximum;
    private int _count;

    private long _hitsInSample;
    private long _missesInSample;
    private double _previousHitRate;
    private double _stepSize;
    private double _samplePerEntry;
    private bool _hasBaseline;
    private long _adjustment;

    private bool _lastMissValid;
    private uint _lastMissHash;

    public WindowTinyLfuPolicy(long maximumWeight, int randomSeed)
        : this(maximumWeight, randomSeed, WindowTinyLfuSettings.Default)
    {
    }

    internal WindowTinyLfuPolicy(long maximumWeight, int randomSeed, WindowTinyLfuSettings settings)
        : base(maximumWeight)
    {
        _settings = settings;
        _sketch = new FrequencySketch(16, settings.SketchSamplesPerEntry);
        _random = new FastRandom(randomSeed);
        ResetRegionsAndClimber();
    }

    public override EvictionPolicyKind Kind => EvictionPolicyKind.AllKeysLfu;

    internal long WindowMaximum => _windowMaximum;

    internal long ProtectedMaximum => _protectedMaximum;

    internal long WindowWeight => _windowWeight;

    internal long ProbationWeight => _probationWeight;

    internal long ProtectedWeight => _protectedWeight;

    internal long TotalWeight => _windowWeight + _probationWeight + _protectedWeight;

    internal int Count => _count;

    internal byte RegionOf(int id) => (uint)id < (uint)_region.Length ? _region[id] : InNone;

    /// <summary>Largest window the climber may set: the initial window plus the protected share, or (when allowed) all but one unit.</summary>
    private long WindowCeiling => _settings.WindowMayTakeProbation
        ? Math.Max(1, MaximumWeight - 1)
        : _windowMaximum + _protectedMaximum;

    /// <summary>Protected share of the main space for the current window.</summary>
    private long ProtectedCeiling => _settings.WindowMayTakeProbation
        ? (long)(_settings.ProtectedFraction * (MaximumWeight - _windowMaximum))
        : long.MaxValue;

    private long ClimberSampleSize => (long)(_samplePerEntry * _sketch.Capacity);

    public override void EnsureCapacity(int idCapacity)
    {
        if (idCapacity <= _region.Length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(idCapacity);
            return;
        }

        int old = _region.Length;
        int size = GrowCapacity(old, idCapacity);
        Array.Resize(ref _prev, size);
        Array.Resize(ref _next, size);
        Array.Resize(ref _weight, size);
        Array.Resize(ref _hash, size);
        Array.Resize(ref _region, size);
        _prev.AsSpan(old).Fill(IdList.Unlinked);
        _next.AsSpan(old).Fill(IdList.None);
    }

    public override void OnInsert(int id, uint keyHash, long weight, long expireAtMs)
    {
        int w = ToStoredWeight(weight);
        EnsureCapacity(id + 1);
        if (_region[id] != InNone)
        {
            OnRemove(id); // the owner reused a live id: treat as replace
        }

        _hash[id] = keyHash;
        _weight[id] = w;
        if (!(_lastMissValid && _lastMissHash == keyHash))
        {
            _sketch.Increment(keyHash);
        }

        _lastMissValid = false;
        _region[id] = InWindow;
        IdList.AddLast(ref _window, _prev, _next, id);
        _windowWeight += w;
        _count++;
        _sketch.EnsureCapacity(_count);
        AfterWrite();
    }

    public override void OnAccess(int id)
    {
        if ((uint)id >= (uint)_region.Length || _region[id] == InNone)
        {
            return;
        }

        _lastMissValid = false;
        if (IsSampling)
        {
            _hitsInSample++;
        }

        _sketch.Increment(_hash[id]);
        Reorder(id);
        Maintain();
    }

    public override void OnMiss(uint keyHash)
    {
        if (IsSampling)
        {
            _missesInSample++;
        }

        _sketch.Increment(keyHash);
        _lastMissHash = keyHash;
        _lastMissValid = true;
        Maintain();
    }

    public override void OnUpdate(int id, long weight, long expireAtMs)
    {
        int w = ToStoredWeight(weight);
        if ((uint)id >= (uint)_region.Length || _region[id] == InNone)
        {
            return;
        }

        _lastMissValid = false;
        long delta = w - (long)_weight[id];
        _weight[id] = w;
        switch (_region[id])
        {
            case InWindow:
                _windowWeight += delta;
                break;
            case InProbation:
                _probationWeight += delta;
                break;
            default:
                _protectedWeight += delta;
                break;
        }

        _sketch.Increment(_hash[id]);
        Reorder(id);
        AfterWrite();
    }

    public override void OnRemove(int id)
    {
        if ((uint)id >= (uint)_region.Length)
        {
            return;
        }

        int w = _weight[id];
        switch (_region[id])
        {
            case InWindow:
                IdList.Remove(ref _window, _prev, _next, id);
                _windowWeight -= w;
                break;
            case InProbation:
                IdList.Remove(ref _probation, _prev, _next, id);
                _probationWeight -= w;
                break;
            case InProtected:
                IdList.Remove(ref _protected, _prev, _next, id);
                _protectedWeight -= w;
                break;
            default:
                return;
        }

        _region[id] = InNone;
        _count--;
    }

    public override int SelectVictim()
    {
        if (_count == 0)
        {
            return -1;
        }

        if (_windowWeight > _windowMaximum && !_window.IsEmpty)
        {
            // The window's oldest entry asks for admission into the main space.
            int candidate = _window.Head;
            int victim = !_probation.IsEmpty ? _probation.Head : _protected.Head;
            if (victim < 0 || _weight[candidate] > MaximumWeight)
            {
                return candidate;
            }

            if (!Admit(_hash[candidate], _hash[victim]))
            {
                return candidate;
            }

            MoveWindowHeadToProbation();
            return victim;
        }

        if (!_probation.IsEmpty)
        {
            return _probation.Head;
        }

        return !_protected.IsEmpty ? _protected.Head : _window.Head;
    }

    public override int Frequency(int id) =>
        (uint)id < (uint)_region.Length && _region[id] != InNone ? _sketch.Frequency(_hash[id]) : 0;

    public override void Clear()
    {
        _prev.AsSpan().Fill(IdList.Unlinked);
        _next.AsSpan().Fill(IdList.None);
        Array.Clear(_region);
        _window = IdListEnds.Empty;
        _probation = IdListEnds.Empty;
        _protected = IdListEnds.Empty;
        _windowWeight = 0;
        _probationWeight = 0;
        _protectedWeight = 0;
        _count = 0;
        _lastMissValid = false;
        _sketch.Clear();
        ResetRegionsAndClimber();
    }

    private protected override void OnMaximumWeightChanged()
    {
        ResetRegionsAndClimber();
        int budget = TransferBudget;
        DemoteProtectedOverflow(ref budget);
        MoveWindowOverflowWhileRoom(ref budget);
    }

    /// <summary>Climber samples only once the cache is at least half full (before that every policy hits alike).</summary>
    private bool IsSampling => _settings.Adaptive && TotalWeight >= (_settings.SampleOnlyWhenFull ? MaximumWeight : MaximumWeight >> 1);

    private void ResetRegionsAndClimber()
    {
        long maximum = MaximumWeight;
        long window = maximum - (long)((1 - _settings.InitialWindowFraction) * maximum);
        _windowMaximum = window;
        _protectedMaximum = (long)(_settings.ProtectedFraction * (maximum - window));
        _hitsInSample = 0;
        _missesInSample = 0;
        _previousHitRate = 0;
        _adjustment = 0;
        // First move shrinks the window: most workloads are frequency-biased.
        _stepSize = _settings.InitialStepSign * _settings.StepFraction * maximum;
        _samplePerEntry = _settings.InitialSamplePerEntry;
        _hasBaseline = false;
    }

    private void Reorder(int id)
    {
        switch (_region[id])
        {
            case InWindow:
                IdList.MoveToLast(ref _window, _prev, _next, id);
                break;
            case InProbation:
                int w = _weight[id];
                if (w > _protectedMaximum)
                {
                    IdList.MoveToLast(ref _probation, _prev, _next, id);
                    break;
                }

                IdList.Remove(ref _probation, _prev, _next, id);
                _probationWeight -= w;
                IdList.AddLast(ref _protected, _prev, _next, id);
                _protectedWeight += w;
                _region[id] = InProtected;
                int budget = TransferBudget;
                DemoteProtectedOverflow(ref budget);
                break;
            case InProtected:
                IdList.MoveToLast(ref _protected, _prev, _next, id);
                break;
        }
    }

    private void AfterWrite()
    {
        int budget = TransferBudget;
        DemoteProtectedOverflow(ref budget);
        MoveWindowOverflowWhileRoom(ref budget);
        Maintain();
    }

    /// <summary>While the cache has room, the window's overflow enters probation without a contest.</summary>
    private void MoveWindowOverflowWhileRoom(ref int budget)
    {
        while (_windowWeight > _windowMaximum && !_window.IsEmpty && TotalWeight <= MaximumWeight && budget > 0)
        {
            MoveWindowHeadToProbation();
            budget--;
        }
    }

    private void MoveWindowHeadToProbation()
    {
        int id = _window.Head;
        int w = _weight[id];
        IdList.Remove(ref _window, _prev, _next, id);
        _windowWeight -= w;
        IdList.AddLast(ref _probation, _prev, _next, id);
        _probationWeight += w;
        _region[id] = InProbation;
    }

    private void DemoteProtectedOverflow(ref int budget)
    {
        while (_protectedWeight > _protectedMaximum && !_protected.IsEmpty && budget > 0)
        {
            int id = _protected.Head;
            int w = _weight[id];
            IdList.Remove(ref _protected, _prev, _next, id);
            _protectedWeight -= w;
            IdList.AddLast(ref _probation, _prev, _next, id);
            _probationWeight += w;
            _region[id] = InProbation;
            budget--;
        }
    }

    private bool Admit(uint candidateHash, uint victimHash)
    {
        int victimFrequency = _sketch.Frequency(victimHash);
        int candidateFrequency = _sketch.Frequency(candidateHash);
        if (candidateFrequency > victimFrequency)
        {
            return true;
        }

        // A warm candidate that loses is let in now and then: defeats hash-collision attacks that
        // would keep an artificially hot victim resident.
        return _settings.AdmitJitter && candidateFrequency >= _settings.JitterCandidateMin && victimFrequency >= _settings.JitterVictimMin && ((int)_random.NextUInt64() & _settings.JitterMask) == 0;
    }

    /// <summary>Cheap check, then the climber's bookkeeping (rare) and pending region moves (bounded).</summary>
    private void Maintain()
    {
        if (_adjustment == 0 && _hitsInSample + _missesInSample < ClimberSampleSize && _protectedWeight <= _protectedMaximum)
        {
            return;
        }

        if (_hitsInSample + _missesInSample >= ClimberSampleSize)
        {
            DetermineAdjustment();
        }

        int budget = TransferBudget;
        DemoteProtectedOverflow(ref budget);
        if (_adjustment > 0)
        {
            IncreaseWindow(ref budget);
        }
        else if (_adjustment < 0)
        {
            DecreaseWindow(ref budget);
        }
    }

    private void DetermineAdjustment()
    {
        long requests = _hitsInSample + _missesInSample;
        double hitRate = (double)_hitsInSample / requests;
        _hitsInSample = 0;
        _missesInSample = 0;
        if (_settings.BaselineFirstSample && !_hasBaseline)
        {
            // The first sample has nothing to be compared with: it only sets the baseline.
            _hasBaseline = true;
            _previousHitRate = hitRate;
            return;
        }

        double change = hitRate - _previousHitRate;

        // Keep going the same way while the hit rate does not drop; turn around when it does.
        double amount = change >= 0 ? _stepSize : -_stepSize;
        if (_settings.BounceAtLimits && ((amount < 0 && _windowMaximum <= 1) || (amount > 0 && _windowMaximum >= WindowCeiling)))
        {
            // Cannot go further this way: a step would teach nothing, so explore the other way.
            amount = -amount;
        }

        bool restart = Math.Abs(change) >= _settings.RestartThreshold;
        double nextStep = restart
            ? _settings.StepFraction * MaximumWeight * (amount >= 0 ? 1 : -1)
            : _settings.StepDecay * amount;
        _samplePerEntry = restart
            ? _settings.InitialSamplePerEntry
            : Math.Min(_settings.SamplePerEntry, _samplePerEntry * _settings.SampleGrowth);

        _previousHitRate = hitRate;
        _adjustment = (long)amount;
        _stepSize = nextStep;
    }

    /// <summary>Grows the window by taking weight from the main space (protected share first), moving main's oldest entries into the window.</summary>
    private void IncreaseWindow(ref int budget)
    {
        long room = WindowCeiling - _windowMaximum;
        if (room <= 0)
        {
            _adjustment = 0;
            return;
        }

        long requested = Math.Min(_adjustment, room);
        long protectedBefore = _protectedMaximum;
        _protectedMaximum -= Math.Min(requested, protectedBefore);
        _windowMaximum += requested;
        DemoteProtectedOverflow(ref budget);

        long quota = requested;
        bool stalled = false;
        while (quota > 0 && budget > 0)
        {
            int id = _probation.Head;
            if (id < 0 || quota < _weight[id])
            {
                id = _protected.Head;
            }

            if (id < 0 || quota < _weight[id])
            {
                stalled = true;
                break;
            }

            int w = _weight[id];
            if (_region[id] == InProbation)
            {
                IdList.Remove(ref _probation, _prev, _next, id);
                _probationWeight -= w;
            }
            else
            {
                IdList.Remove(ref _protected, _prev, _next, id);
                _protectedWeight -= w;
            }

            IdList.AddLast(ref _window, _prev, _next, id);
            _windowWeight += w;
            _region[id] = InWindow;
            quota -= w;
            budget--;
        }

        // Only what was moved counts; the rest is retried on a later operation unless nothing fits.
        long moved = requested - quota;
        _windowMaximum -= quota;
        _protectedMaximum = protectedBefore - Math.Min(moved, protectedBefore);
        _adjustment = stalled ? 0 : quota;
    }

    /// <summary>Shrinks the window (never below 1) by moving its oldest entries into probation.</summary>
    private void DecreaseWindow(ref int budget)
    {
        if (_windowMaximum <= 1)
        {
            _adjustment = 0;
            return;
        }

        long requested = Math.Min(-_adjustment, _windowMaximum - 1);
        long quota = requested;
        bool stalled = false;
        while (quota > 0 && budget > 0)
        {
            int id = _window.Head;
            if (id < 0 || quota < _weight[id])
            {
                stalled = true;
                break;
            }

            quota -= _weight[id];
            MoveWindowHeadToProbation();
            budget--;
        }

        long moved = requested - quota;
        _windowMaximum -= moved;
        _protectedMaximum = Math.Min(_protectedMaximum + moved, ProtectedCeiling);
        _adjustment = stalled ? 0 : -quota;
    }
}
