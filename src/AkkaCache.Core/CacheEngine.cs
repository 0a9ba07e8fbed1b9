using AkkaCache.Core.Actors;
using AkkaCache.Core.Eviction;
using AkkaCache.Core.HotKeys;
using AkkaCache.Core.Keyspace;
using AkkaCache.Core.Storage;

namespace AkkaCache.Core;

public sealed record CacheEngineOptions
{
    public int ShardCount { get; init; } = ShardLayout.DefaultShardCount;

    /// <summary>Node memory budget in bytes; 0 = unlimited.</summary>
    public long MaxMemory { get; init; }

    public EvictionPolicyKind MaxMemoryPolicy { get; init; } = EvictionPolicyKind.AllKeysLru;

    /// <summary>Maintenance ticks per second (active expiry, memory rebalancing), as Redis's <c>hz</c>.</summary>
    public int Hz { get; init; } = 10;

    /// <summary>Expirations per shard per tick: bounds the work of one tick.</summary>
    public int MaxExpirationsPerTick { get; init; } = 256;

    /// <summary>Milliseconds a deleted or expired value stays servable as AC.GETL's STALE reply; 0 = none.</summary>
    public long LeaseStaleMs { get; init; }

    /// <summary>Whether each shard counts its keys' accesses to find hot keys (<see cref="HotKeys.HotKeyDetector"/>).</summary>
    public bool HotKeyDetection { get; init; } = true;

    /// <summary>Hot-key counts are halved every window: the rate reported follows the last couple of windows.</summary>
    public long HotKeyWindowMs { get; init; } = 1000;

    /// <summary>Share of the node's accesses a key needs to be hot.</summary>
    public double HotKeyShare { get; init; } = 0.01;

    /// <summary>Accesses per second a key needs to be hot.</summary>
    public long HotKeyMinRate { get; init; } = 1000;
}

/// <summary>The shards of one node and their shared clock and memory budget.</summary>
public sealed class CacheEngine : IDisposable
{
    private readonly MaintenanceTick[] _ticks;
    private ITimer? _timer;
    private EvictionPolicyKind _policy;

    public CacheEngine(CacheEngineOptions options, TimeProvider time)
    {
        Options = options;
        Time = time;
        Layout = new ShardLayout(options.ShardCount);
        Memory = new MemoryBudget(options.MaxMemory);
        _policy = options.MaxMemoryPolicy;
        _hz = Math.Clamp(options.Hz, 1, 500);
        _hotKeyThresholds = new HotKeyThresholds(options.HotKeyShare, options.HotKeyMinRate);
        _leaseStaleMs = options.LeaseStaleMs;
        long now = NowMs;
        Shards = new ShardActor[Layout.ShardCount];
        _ticks = new MaintenanceTick[Layout.ShardCount];
        for (int i = 0; i < Shards.Length; i++)
        {
            Shards[i] = new ShardActor(i, new EntryTable(Memory, options.MaxMemoryPolicy, now) { LeaseStaleMs = options.LeaseStaleMs })
            {
                HotKeys = options.HotKeyDetection
                    ? new HotKeyDetector(options.HotKeyWindowMs, now, thresholds: _hotKeyThresholds)
                    : null,
            };
            _ticks[i] = new MaintenanceTick(this);
        }
    }

    public CacheEngineOptions Options { get; }
    public TimeProvider Time { get; }
    public ShardLayout Layout { get; }
    public ShardActor[] Shards { get; }
    public MemoryBudget Memory { get; }

    /// <summary>
    /// Set on every shard's table. Written by whichever thread runs CONFIG SET while shard actors read it: a shard may see
    /// the change a few removals late, which is all a notification setting promises.
    /// </summary>
    public IRemovalListener? RemovalListener
    {
        get => Shards[0].Table.RemovalListener;
        set
        {
            foreach (var shard in Shards) shard.Table.RemovalListener = value;
        }
    }

    public long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();

    private HotKeyThresholds _hotKeyThresholds;

    /// <summary>When a key counts as hot (CONFIG SET hotkey-share / hotkey-min-rate): the detectors admit candidates by it from their next access.</summary>
    public HotKeyThresholds HotKeyThresholds
    {
        get => Volatile.Read(ref _hotKeyThresholds);
        set
        {
            Volatile.Write(ref _hotKeyThresholds, value);
            foreach (var shard in Shards) shard.HotKeys?.Admit(value);
        }
    }

    private long _leaseStaleMs;

    /// <summary>CONFIG SET lease-stale: each shard keeps removed values servable as STALE this long, from its next removal on.</summary>
    public long LeaseStaleMs
    {
        get => Interlocked.Read(ref _leaseStaleMs);
        set
        {
            Interlocked.Exchange(ref _leaseStaleMs, value);
            foreach (var shard in Shards) shard.Table.LeaseStaleMs = value;
        }
    }

    public ShardActor ShardOf(ReadOnlySpan<byte> key) => Shards[Layout.ShardOfKey(key)];

    public EvictionPolicyKind MaxMemoryPolicy
    {
        get => _policy;
        set
        {
            _policy = value;
            foreach (var shard in Shards) shard.Tell(new ChangePolicy(value));
        }
    }

    private int _hz;

    /// <summary>Maintenance ticks per second; changing it (CONFIG SET hz) reschedules the running tick.</summary>
    public int Hz
    {
        get => _hz;
        set
        {
            _hz = Math.Clamp(value, 1, 500);
            var period = TimeSpan.FromMilliseconds(1000.0 / _hz);
            _timer?.Change(period, period);
        }
    }

    /// <summary>Starts the periodic maintenance tick on the engine's clock.</summary>
    public void Start()
    {
        var period = TimeSpan.FromMilliseconds(1000.0 / _hz);
        _timer = Time.CreateTimer(static state => ((CacheEngine)state!).Tick(), this, period, period);
    }

    /// <summary>Asks every shard with something to do to expire due entries and, when the node is over budget, to give back memory.</summary>
    public void Tick()
    {
        bool overBudget = Memory.IsOverLimit;
        for (int i = 0; i < Shards.Length; i++)
        {
            var shard = Shards[i];
            // racy reads are fine here: a shard skipped now is looked at again on the next tick
            if (shard.Table.VolatileCount == 0 && !overBudget) continue;
            _ticks[i].Post(shard);
        }
    }

    /// <summary>Live bytes the share of one shard may keep when the node is over its budget.</summary>
    internal long ShardShare => Memory.Limit / Shards.Length;

    public long KeyCount
    {
        get
        {
            long total = 0;
            foreach (var shard in Shards) total += shard.Table.Count;
            return total;
        }
    }

    public void Dispose() => _timer?.Dispose();

    private sealed class MaintenanceTick(CacheEngine engine) : IShardMessage
    {
        private int _queued;

        public void Post(ShardActor shard)
        {
            if (Interlocked.Exchange(ref _queued, 1) == 0) shard.Tell(this);
        }

        public bool Handle(ShardActor shard)
        {
            Volatile.Write(ref _queued, 0);
            var table = shard.Table;
            table.ExpireDue(engine.NowMs, engine.Options.MaxExpirationsPerTick);
            if (engine.Memory.IsOverLimit)
            {
                long share = engine.ShardShare;
                if (table.AllocatedBytes > share) table.EvictDownTo(share * 3 / 4);
            }
            return false;
        }
    }

    private sealed class ChangePolicy(EvictionPolicyKind kind) : IShardMessage
    {
        public bool Handle(ShardActor shard)
        {
            shard.Table.ChangePolicy(kind);
            return false;
        }
    }
}
