namespace AkkaCache.Core.Eviction;

/// <summary>Tuning of <see cref="WindowTinyLfuPolicy"/>. The defaults are the production values (see bench/hitrate-results.md).</summary>
internal sealed record WindowTinyLfuSettings
{
    public static WindowTinyLfuSettings Default { get; } = new();

    /// <summary>Admission window share of the maximum at start (and after a maximum change).</summary>
    public double InitialWindowFraction { get; init; } = 0.01;

    /// <summary>Protected segment share of the main space.</summary>
    public double ProtectedFraction { get; init; } = 0.80;

    /// <summary>Whether the hill climber resizes the window (false = fixed window, for comparison).</summary>
    public bool Adaptive { get; init; } = true;

    /// <summary>First climber sample period, in requests (hits + misses) per entry the sketch is sized for.</summary>
    public double InitialSamplePerEntry { get; init; } = 0.5;

    /// <summary>Factor applied to the sample period after each sample (the period grows until <see cref="SamplePerEntry"/>).</summary>
    public double SampleGrowth { get; init; } = 1.25;

    /// <summary>Longest climber sample period, same unit as <see cref="InitialSamplePerEntry"/>.</summary>
    public double SamplePerEntry { get; init; } = 10;

    /// <summary>Climber step, as a share of the maximum, at start and after a restart.</summary>
    public double StepFraction { get; init; } = 0.0625;

    /// <summary>Factor applied to the step after every sample without a restart.</summary>
    public double StepDecay { get; init; } = 0.98;

    /// <summary>A hit-rate change (absolute, 0..1) at least this large restarts the step at full size.</summary>
    public double RestartThreshold { get; init; } = 0.05;

    /// <summary>Aging period of the frequency sketch, in increments per expected entry.</summary>
    public int SketchSamplesPerEntry { get; init; } = FrequencySketch.DefaultSamplesPerEntry;
}

/// <summary>
/// <c>allkeys-lfu</c>: W-TinyLFU after Caffeine's design (own implementation).
/// <list type="bullet">
/// <item>New entries enter an LRU admission window (1% of the maximum at first).</item>
/// <item>The main space is a segmented LRU: probation (20%) and protected (80%); a hit in probation
/// promotes to protected, protected overflow is demoted to probation's most recent end.</item>
/// <item>While the main space is below its share, window overflow moves to probation. When the cache
/// must evict and the window is full or over its share, the window's least recent entry (the candidate)
/// competes with probation's least recent entry (the victim) by their estimate in a 4-bit count-min sketch
/// (<see cref="FrequencySketch"/>, aged every 5 increments per entry); the loser is evicted, so a
/// cold newcomer can be refused. The candidate wins only with a strictly higher estimate, except that
/// a hot victim (estimate &gt;= 12) loses to any seen candidate 1 time in 128: hash collisions or a
/// flood of colliding keys cannot pin a victim forever.</item>
/// <item>A hill climber samples the hit rate (hits = <see cref="OnAccess"/>, misses =
/// <see cref="OnMiss"/>) and moves the window/main split by a step of 6.25% of the maximum in the
/// direction that did not lower the hit rate (turning around when it did). The step decays by 0.98 per
/// sample and restarts at full size when the hit rate changes by 5 points or more. The sample period
/// starts short (0.5 requests per sketch entry) and grows by 1.25x per sample up to 10 requests per
/// entry (Caffeine uses a fixed 10), so the climber adapts quickly at first and then settles.
/// Entries change region in bounded batches (at most 1000 moves per operation).</item>
/// <item>Regions are sized for a capacity that is <see cref="EvictionPolicy.MaximumWeight"/>, or less when
/// the owner's eviction loops show that it evicts earlier (the engine leaves MaximumWeight unbounded and
/// evicts by its memory budget, before inserting): see <see cref="LearnCapacity"/>.</item>
/// </list>
/// Everything is weighted: regions are sized by the sum of their entries' weights.
/// Memory: 17 bytes per id (int prev + int next + int weight + int key hash + byte region) plus the
/// frequency sketch, 8 bytes per expected entry (sized by the live entry count, rounded up to a power of two).
/// </summary>
internal sealed class WindowTinyLfuPolicy : EvictionPolicy
{
    internal const byte InNone = 0;
    internal const byte InWindow = 1;
    internal const byte InProbation = 2;
    internal const byte InProtected = 3;

    private const int TransferBudget = 1000;
    private const int HotVictimFrequency = 12;
    private const int HotVictimLossMask = 127; // 1 in 128

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
    private double _windowShare;    // _windowMaximum / _capacity, kept exact across rescales
    private double _protectedShare; // _protectedMaximum / _capacity
    private int _count;

    // Hill climber.
    private long _hitsInSample;
    private long _missesInSample;
    private double _previousHitRate;
    private double _stepSize;
    private double _samplePerEntry;
    private long _adjustment;

    // Capacity the regions are sized for: MaximumWeight, or less when the owner evicts earlier (see LearnCapacity).
    private long _capacity;
    private bool _inEvictionLoop;
    private bool _growthPending;

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

    /// <summary>Requests in the current climber sample.</summary>
    private long ClimberSampleSize => (long)(_samplePerEntry * _sketch.Capacity);

    /// <summary>The climber samples once the cache is at least half full (before that every policy hits alike).</summary>
    private bool IsSampling => _settings.Adaptive && TotalWeight >= (_capacity >> 1);

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
        LearnCapacity();
        if (_region[id] != InNone)
        {
            OnRemove(id); // the owner reused a live id: treat as a replacement
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
        _growthPending = TotalWeight > _capacity;
        AfterWrite();
    }

    public override void OnAccess(int id)
    {
        if ((uint)id >= (uint)_region.Length || _region[id] == InNone)
        {
            return;
        }

        _lastMissValid = false;
        LearnCapacity();
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
        LearnCapacity();
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
        LearnCapacity();
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
        _growthPending = TotalWeight > _capacity;
        AfterWrite();
    }

    public override void OnRemove(int id)
    {
        if ((uint)id >= (uint)_region.Length)
        {
            return;
        }

        if (!_inEvictionLoop)
        {
            LearnCapacity();
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

        _growthPending = false;
        _inEvictionLoop = true;
        if (_windowWeight >= _windowMaximum && !_window.IsEmpty)
        {
            // The window is full (owner evicting before inserting) or over (after inserting): its oldest
            // entry asks for admission into the main space.
            int candidate = _window.Head;
            int victim = !_probation.IsEmpty ? _probation.Head : _protected.Head;
            if (victim < 0 || _weight[candidate] > _capacity || !Admit(_hash[candidate], _hash[victim]))
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

    /// <summary>
    /// Keeps the region sizes in step with the owner's real capacity. The owner may evict before
    /// <see cref="EvictionPolicy.MaximumWeight"/> is reached (the engine shares one memory budget between
    /// shards and may leave MaximumWeight unbounded): the weight left when an eviction loop ends is then
    /// the capacity. When the weight grew past the capacity and the owner went on without evicting, the
    /// capacity grows to it. Never beyond MaximumWeight. Called at the start of every operation except
    /// <see cref="SelectVictim"/> and the removals of an eviction loop.
    /// </summary>
    private void LearnCapacity()
    {
        if (_inEvictionLoop)
        {
            _inEvictionLoop = false;
            Rescale(Math.Min(MaximumWeight, TotalWeight));
        }
        else if (_growthPending)
        {
            _growthPending = false;
            long total = TotalWeight;
            if (total > _capacity)
            {
                Rescale(Math.Min(MaximumWeight, total));
            }
        }
    }

    /// <summary>Changes the capacity, keeping the window's and protected segment's shares and the climber's state.</summary>
    private void Rescale(long capacity)
    {
        if (capacity == _capacity || capacity <= 0)
        {
            return;
        }

        double ratio = (double)capacity / _capacity;
        _capacity = capacity;
        _windowMaximum = Math.Max(1, (long)Math.Round(_windowShare * capacity));
        _protectedMaximum = (long)(_protectedShare * capacity);
        _stepSize *= ratio;
        _adjustment = (long)(_adjustment * ratio);
    }

    private protected override void OnMaximumWeightChanged()
    {
        ResetRegionsAndClimber();
        int budget = TransferBudget;
        DemoteProtectedOverflow(ref budget);
        MoveWindowOverflowWhileRoom(ref budget);
    }

    private void ResetRegionsAndClimber()
    {
        long maximum = MaximumWeight;
        _capacity = maximum;
        _inEvictionLoop = false;
        _growthPending = false;
        long window = maximum - (long)((1 - _settings.InitialWindowFraction) * maximum);
        _windowMaximum = window;
        _protectedMaximum = (long)(_settings.ProtectedFraction * (maximum - window));
        UpdateShares();
        _hitsInSample = 0;
        _missesInSample = 0;
        _previousHitRate = 0;
        _adjustment = 0;
        _samplePerEntry = _settings.InitialSamplePerEntry;

        // The first move shrinks the window: most workloads are frequency-biased.
        _stepSize = -_settings.StepFraction * maximum;
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

    /// <summary>
    /// While the main space is below its share, the window's overflow enters probation without a contest
    /// (filling up, or after the window shrank). Once the main space is full, the overflow waits in the
    /// window for <see cref="SelectVictim"/>, where it must beat probation's oldest entry: so admission
    /// works whether the owner evicts after inserting (the simulator) or before (the engine).
    /// </summary>
    private void MoveWindowOverflowWhileRoom(ref int budget)
    {
        while (_windowWeight > _windowMaximum && !_window.IsEmpty && budget > 0
            && _probationWeight + _protectedWeight + _weight[_window.Head] <= _capacity - _windowMaximum)
        {
            MoveWindowHeadToProbation();
            budget--;
        }
    }

    private void UpdateShares()
    {
        double capacity = Math.Max(1, _capacity);
        _windowShare = _windowMaximum / capacity;
        _protectedShare = _protectedMaximum / capacity;
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

        // A hot victim now and then loses anyway: defeats hash collisions (accidental or crafted)
        // that would keep an artificially hot entry resident and refuse every newcomer.
        return victimFrequency >= HotVictimFrequency && candidateFrequency > 0
            && ((int)_random.NextUInt64() & HotVictimLossMask) == 0;
    }

    /// <summary>Cheap check, then the climber's bookkeeping (rare) and pending region moves (bounded).</summary>
    private void Maintain()
    {
        long requests = _hitsInSample + _missesInSample;
        if (_adjustment == 0 && requests < ClimberSampleSize && _protectedWeight <= _protectedMaximum
            && (_windowWeight <= _windowMaximum || _probationWeight + _protectedWeight >= _capacity - _windowMaximum))
        {
            return;
        }

        if (requests >= ClimberSampleSize)
        {
            DetermineAdjustment();
        }

        int budget = TransferBudget;
        DemoteProtectedOverflow(ref budget);
        MoveWindowOverflowWhileRoom(ref budget);
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
        double change = hitRate - _previousHitRate;
        _hitsInSample = 0;
        _missesInSample = 0;

        // Keep going the same way while the hit rate does not drop; turn around when it does. An
        // identical hit rate (typically 0 during a pure scan, or 1) says nothing: stay, but let the step decay.
        double amount = change > 0 ? _stepSize : change < 0 ? -_stepSize : 0;
        double nextStep = Math.Abs(change) >= _settings.RestartThreshold
            ? _settings.StepFraction * _capacity * (amount >= 0 ? 1 : -1)
            : _settings.StepDecay * (amount != 0 ? amount : _stepSize);

        _previousHitRate = hitRate;
        _adjustment = (long)amount;
        _stepSize = nextStep;
        _samplePerEntry = Math.Min(_settings.SamplePerEntry, _samplePerEntry * _settings.SampleGrowth);
    }

    /// <summary>Grows the window by taking weight from the protected share, moving main's oldest entries into the window.</summary>
    private void IncreaseWindow(ref int budget)
    {
        if (_protectedMaximum == 0)
        {
            _adjustment = 0;
            return;
        }

        long requested = Math.Min(_adjustment, _protectedMaximum);
        _protectedMaximum -= requested;
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
        _protectedMaximum += quota;
        _windowMaximum -= quota;
        _adjustment = stalled ? 0 : quota;
        UpdateShares();
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
        _protectedMaximum += moved;
        _adjustment = stalled ? 0 : -quota;
        UpdateShares();
    }
}
