using System.Globalization;
using AkkaCache.Core.Eviction;

namespace AkkaCache.Benchmarks.HitRate;

/// <summary>
/// <c>hitrate --trace FILE[,FILE...] --format lirs|int64 --capacity N[,N...] [--policy lru,w-tinylfu,...]</c>:
/// replays key traces through the engine's eviction policies (weight 1 per entry, maximum weight =
/// capacity) and prints CSV <c>trace,policy,capacity,hit_rate</c> (percent, two decimals).
/// </summary>
/// <remarks>
/// Policies: <c>lru</c> (allkeys-lru), <c>w-tinylfu</c> (allkeys-lfu, adaptive), <c>w-tinylfu-fixed</c>
/// (1% window, no climber), <c>w-tinylfu-10x</c> (climber with Caffeine's fixed sample period of 10 requests
/// per entry instead of the growing one), <c>random</c> (allkeys-random), <c>optimal</c> (Belady, offline),
/// <c>arc</c> (reference implementation in the harness).
/// Engine-like replays: <c>--evict-first</c> makes room before inserting (the engine's order) and
/// <c>--unbounded</c> leaves the policy's maximum at long.MaxValue (the engine's setting: the policy then
/// learns the capacity from the owner's evictions).
/// Tuning experiments, not defaults: <c>--window F</c>, <c>--sample-per-entry F</c>, <c>--step F</c>,
/// <c>--decay F</c>, <c>--restart F</c>, <c>--protected F</c>.
/// </remarks>
public static class HitRateCommand
{
    private const string Usage =
        "usage: hitrate --trace FILE[,FILE...] --format lirs|int64 --capacity N[,N...] " +
        "[--policy lru,w-tinylfu,w-tinylfu-fixed,w-tinylfu-10x,random,optimal,arc] [--no-header] [--evict-first] [--unbounded]";

    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var traces = new List<string>();
        string? format = null;
        var capacities = new List<int>();
        var policies = new List<string> { "lru", "w-tinylfu" };
        bool header = true;
        WindowTinyLfuSettings settings = WindowTinyLfuSettings.Default;
        ReplayMode mode = default;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string arg = args[i];
                switch (arg)
                {
                    case "hitrate":
                        break;
                    case "--trace":
                        traces.AddRange(Split(Value(args, ref i)));
                        break;
                    case "--format":
                        format = Value(args, ref i);
                        break;
                    case "--capacity":
                        foreach (string c in Split(Value(args, ref i)))
                        {
                            int capacity = int.Parse(c, NumberStyles.Integer, CultureInfo.InvariantCulture);
                            if (capacity <= 0)
                            {
                                throw new FormatException("capacity must be positive");
                            }

                            capacities.Add(capacity);
                        }

                        break;
                    case "--policy":
                        policies = [.. Split(Value(args, ref i))];
                        break;
                    case "--no-header":
                        header = false;
                        break;
                    case "--evict-first":
                        mode = mode with { EvictBeforeInsert = true };
                        break;
                    case "--unbounded":
                        mode = mode with { UnboundedMaximum = true };
                        break;
                    case "--window":
                        settings = settings with { InitialWindowFraction = Double(Value(args, ref i)) };
                        break;
                    case "--sample-per-entry":
                        settings = settings with { SamplePerEntry = Double(Value(args, ref i)) };
                        break;
                    case "--step":
                        settings = settings with { StepFraction = Double(Value(args, ref i)) };
                        break;
                    case "--decay":
                        settings = settings with { StepDecay = Double(Value(args, ref i)) };
                        break;
                    case "--protected":
                        settings = settings with { ProtectedFraction = Double(Value(args, ref i)) };
                        break;
                    case "--restart":
                        settings = settings with { RestartThreshold = Double(Value(args, ref i)) };
                        break;
                    default:
                        throw new FormatException($"unknown argument '{arg}'");
                }
            }

            if (traces.Count == 0 || capacities.Count == 0)
            {
                throw new FormatException("--trace and --capacity are required");
            }

            foreach (string policy in policies)
            {
                if (!IsKnownPolicy(policy))
                {
                    throw new FormatException($"unknown policy '{policy}'");
                }
            }
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (header)
        {
            Console.WriteLine("trace,policy,capacity,hit_rate");
        }

        foreach (string path in traces)
        {
            string traceFormat = format ?? (path.Contains("corda", StringComparison.OrdinalIgnoreCase) ? "int64" : "lirs");
            long[] trace;
            try
            {
                trace = TraceReader.Read(path, traceFormat);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"{path}: {e.Message}");
                return 1;
            }

            string name = TraceName(path);
            foreach (int capacity in capacities)
            {
                foreach (string policy in policies)
                {
                    long hits = Simulate(trace, policy, capacity, settings, mode);
                    double rate = trace.Length == 0 ? 0 : 100.0 * hits / trace.Length;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name},{policy},{capacity},{rate:F2}"));
                }
            }
        }

        return 0;
    }

    /// <summary>Hits of one policy on one trace at one capacity.</summary>
    internal static long Simulate(long[] trace, string policy, int capacity, WindowTinyLfuSettings settings, ReplayMode mode = default)
    {
        switch (policy)
        {
            case "optimal":
                return ReferencePolicies.OptimalHits(trace, capacity);
            case "arc":
                return ReferencePolicies.ArcHits(trace, capacity);
        }

        // The engine leaves the maximum unbounded and evicts by its own memory budget: the policy must cope.
        long maximum = mode.UnboundedMaximum ? long.MaxValue : capacity;
        EvictionPolicy evictionPolicy = policy switch
        {
            "lru" => EvictionPolicy.Create(EvictionPolicyKind.AllKeysLru, maximum),
            "random" => EvictionPolicy.Create(EvictionPolicyKind.AllKeysRandom, maximum, randomSeed: 1),
            "w-tinylfu" => new WindowTinyLfuPolicy(maximum, randomSeed: 1, settings),
            "w-tinylfu-fixed" => new WindowTinyLfuPolicy(maximum, randomSeed: 1, settings with { Adaptive = false }),
            "w-tinylfu-10x" => new WindowTinyLfuPolicy(maximum, randomSeed: 1, settings with { InitialSamplePerEntry = 10, SampleGrowth = 1 }),
            _ => throw new ArgumentException($"unknown policy '{policy}'", nameof(policy)),
        };
        return Replay(trace, evictionPolicy, capacity, mode.EvictBeforeInsert);
    }

    /// <summary>
    /// Replays a trace as a read-through cache: a hit is <c>OnAccess</c>; a miss is <c>OnMiss</c>, then
    /// <c>OnInsert</c> and evictions while over capacity (or, with <paramref name="evictBeforeInsert"/>,
    /// evictions to make room first, as the engine does).
    /// </summary>
    internal static long Replay(long[] trace, EvictionPolicy policy, int capacity, bool evictBeforeInsert = false)
    {
        policy.EnsureCapacity(capacity + 1);
        var index = new Dictionary<long, int>(capacity + 1);
        long[] keyOf = new long[capacity + 1];
        int[] freeIds = new int[capacity + 1];
        int freeCount = 0;
        int nextId = 0;
        long hits = 0;
        int limit = evictBeforeInsert ? capacity - 1 : capacity;
        foreach (long key in trace)
        {
            if (index.TryGetValue(key, out int id))
            {
                hits++;
                policy.OnAccess(id);
                continue;
            }

            uint hash = Hash(key);
            policy.OnMiss(hash);
            if (evictBeforeInsert)
            {
                EvictWhileOver(policy, index, keyOf, freeIds, ref freeCount, limit);
            }

            id = freeCount > 0 ? freeIds[--freeCount] : nextId++;
            keyOf[id] = key;
            index.Add(key, id);
            policy.OnInsert(id, hash, 1, 0);
            if (!evictBeforeInsert)
            {
                EvictWhileOver(policy, index, keyOf, freeIds, ref freeCount, limit);
            }
        }

        return hits;
    }

    private static void EvictWhileOver(EvictionPolicy policy, Dictionary<long, int> index, long[] keyOf, int[] freeIds, ref int freeCount, int limit)
    {
        while (index.Count > limit)
        {
            int victim = policy.SelectVictim();
            if (victim < 0)
            {
                throw new InvalidOperationException($"{policy.Kind} selected no victim with {index.Count} entries");
            }

            index.Remove(keyOf[victim]);
            policy.OnRemove(victim);
            freeIds[freeCount++] = victim;
        }
    }

    /// <summary>Key hash as the engine would give it: 32 well-mixed bits.</summary>
    internal static uint Hash(long key)
    {
        ulong z = unchecked((ulong)key * 0x9E37_79B9_7F4A_7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL);
        z ^= z >> 31;
        return (uint)(z ^ (z >> 32));
    }

    private static bool IsKnownPolicy(string policy) =>
        policy is "lru" or "random" or "w-tinylfu" or "w-tinylfu-fixed" or "w-tinylfu-10x" or "optimal" or "arc";

    private static string TraceName(string path)
    {
        string file = Path.GetFileName(path);
        foreach (string suffix in (string[])[".trace.gz", ".gz"])
        {
            if (file.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return file[..^suffix.Length];
            }
        }

        return file;
    }

    private static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length)
        {
            throw new FormatException($"{args[i]} needs a value");
        }

        return args[++i];
    }

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static double Double(string value) => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
}

/// <summary>How the harness drives the policy.</summary>
/// <param name="EvictBeforeInsert">Make room before inserting (the engine's order) instead of after.</param>
/// <param name="UnboundedMaximum">Create the policy with an unbounded maximum (the engine's setting).</param>
internal readonly record struct ReplayMode(bool EvictBeforeInsert, bool UnboundedMaximum);
