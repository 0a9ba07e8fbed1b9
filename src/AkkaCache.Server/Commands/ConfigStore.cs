using System.Globalization;
using AkkaCache.Core.Eviction;
using AkkaCache.Core.Keyspace;
using AkkaCache.Server.Configuration;

namespace AkkaCache.Server.Commands;

/// <summary>
/// The parameters CONFIG GET and CONFIG SET see. Parameters backed by the running node (maxmemory, maxmemory-policy,
/// proto-max-bulk-len, requirepass, timeout, ...) read and write the node itself; the rest are Redis settings client
/// libraries and tools read at connect time, kept here with Redis's defaults and validation so that reading them gives
/// sensible answers and setting them gives Redis's errors. The node has no persistence, so the settings that would
/// turn it on refuse anything but "off".
/// </summary>
/// <remarks>
/// Also holds the INFO statistics baseline (CONFIG RESETSTAT) and the observed memory peak, because both belong to
/// the node and this is the per-node object the commands reach. Thread-safe: any connection may run CONFIG.
/// </remarks>
internal sealed class ConfigStore
{
    private readonly object _gate = new();
    private readonly List<Parameter> _parameters = [];
    private readonly Dictionary<string, Parameter> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private long _peakMemory;

    public ConfigStore(CacheNode node)
    {
        Node = node;
        Define(node);
    }

    public CacheNode Node { get; }

    /// <summary>The counters INFO reports relative to (zero until CONFIG RESETSTAT).</summary>
    public StatsBaseline Baseline { get; private set; } = new(0, 0, 0, 0, 0, 0);

    // ------------------------------------------------------------------ parameter values the node uses

    public int Hz => Node.Engine.Hz;
    public long MaxClients => long.Parse(Get("maxclients"), CultureInfo.InvariantCulture);

    /// <summary>Records <paramref name="usedMemory"/> if it is a new peak and returns the peak (observed when INFO or MEMORY STATS look).</summary>
    public long ObservePeak(long usedMemory)
    {
        long peak = Interlocked.Read(ref _peakMemory);
        while (usedMemory > peak)
        {
            long seen = Interlocked.CompareExchange(ref _peakMemory, usedMemory, peak);
            if (seen == peak) return usedMemory;
            peak = seen;
        }
        return peak;
    }

    /// <summary>CONFIG RESETSTAT: INFO's counters start again from zero.</summary>
    public void ResetStats(StatsBaseline current)
    {
        Baseline = current;
        Interlocked.Exchange(ref _peakMemory, Node.Engine.Memory.Allocated);
    }

    // ------------------------------------------------------------------ CONFIG GET / SET

    /// <summary>The value of one parameter (by name or alias); throws for an unknown name.</summary>
    public string Get(string name)
    {
        lock (_gate) return _byName[name].Read();
    }

    /// <summary>
    /// CONFIG GET: the parameters matching any of the glob <paramref name="patterns"/> (case-insensitive), each once,
    /// in definition order. A pattern without glob characters is looked up directly and answered under the name as given.
    /// </summary>
    public List<KeyValuePair<string, string>> Match(IReadOnlyList<string> patterns)
    {
        var result = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        lock (_gate)
        {
            foreach (var pattern in patterns)
            {
                if (pattern.AsSpan().IndexOfAny("[*?") < 0)
                {
                    if (_byName.TryGetValue(pattern, out var parameter) && seen.Add(pattern))
                        result.Add(new(pattern, parameter.Read()));
                    continue;
                }
                foreach (var parameter in _parameters)
                {
                    foreach (var name in parameter.Names)
                    {
                        if (Glob.IsMatch(pattern, name, ignoreCase: true) && seen.Add(name))
                            result.Add(new(name, parameter.Read()));
                    }
                }
            }
        }
        return result;
    }

    /// <summary>
    /// CONFIG SET: validates every name and value first and applies them only if all are valid (Redis 7 semantics).
    /// Returns null on success, else the error reply.
    /// </summary>
    public string? Set(IReadOnlyList<(string Name, string Value)> pairs)
    {
        lock (_gate)
        {
            var parsed = new (Parameter Parameter, object Value)[pairs.Count];
            var names = new HashSet<Parameter>();
            for (int i = 0; i < pairs.Count; i++)
            {
                var (name, value) = pairs[i];
                if (!_byName.TryGetValue(name, out var parameter))
                    return $"ERR Unknown option or number of arguments for CONFIG SET - '{name}'";
                if (parameter.Parse is null)
                    return Failed(name, "can't set immutable config");
                if (!names.Add(parameter))
                    return Failed(name, "duplicate parameter");
                var (result, error) = parameter.Parse(value);
                if (error is not null) return Failed(name, error);
                parsed[i] = (parameter, result!);
            }
            foreach (var (parameter, value) in parsed) parameter.Apply!(value);
            return null;
        }

        static string Failed(string name, string why) => $"ERR CONFIG SET failed (possibly related to argument '{name}') - {why}";
    }

    // ------------------------------------------------------------------ definitions

    private void Define(CacheNode node)
    {
        var options = node.Options;

        // backed by the node
        Add("maxmemory", () => Num(node.Engine.Memory.Limit), Memory(0, long.MaxValue), v =>
        {
            long bytes = (long)v;
            node.Engine.Memory.Limit = bytes;
            options.MaxMemory = Num(bytes);
        });
        Add("maxmemory-policy", () => EvictionPolicyNames.ToRedisName(node.Engine.MaxMemoryPolicy), ParsePolicy, v =>
        {
            var kind = (EvictionPolicyKind)v;
            node.Engine.MaxMemoryPolicy = kind;
            options.MaxMemoryPolicy = EvictionPolicyNames.ToRedisName(kind);
        });
        // NodeOptions.Validate's range: the request parser keeps a whole argument in one buffer
        Add("proto-max-bulk-len", () => Num(node.RequestLimits.MaxBulkLength), Memory(1024, int.MaxValue - 1024), v =>
        {
            long bytes = (long)v;
            node.RequestLimits = node.RequestLimits with { MaxBulkLength = (int)bytes };
            options.ProtoMaxBulkLen = Num(bytes);
        });
        Add("client-query-buffer-limit", () => Num(options.ClientQueryBufferLimitBytes), Memory(1024 * 1024, long.MaxValue),
            v => options.ClientQueryBufferLimit = Num((long)v));
        Add("requirepass", () => options.RequirePass ?? "", v => (v, null), v => options.RequirePass = (string)v);
        Add("timeout", () => Num(options.Timeout), Integer(0, int.MaxValue), v => options.Timeout = (int)(long)v);
        Add("port", () => Num(node.Port), null, null);
        Add("bind", () => options.Bind, null, null);
        Add("databases", () => Num(options.Databases), null, null);
        // what INFO's cluster_enabled says; read-only, as in Redis
        Add("cluster-enabled", () => options.IsClusterEnabled ? "yes" : "no", null, null);

        // kept here: the node runs with these values whatever they say (documented per entry)
        // Redis clamps hz to 1..500; the engine's maintenance timer keeps the period it started with
        Add("hz", () => Num(node.Engine.Hz), ParseHz, v => node.Engine.Hz = (int)(long)v);
        Stored("maxclients", "10000", Integer(1, uint.MaxValue));
        Stored("maxmemory-samples", "5", Integer(1, int.MaxValue));
        Stored("maxmemory-eviction-tenacity", "10", Integer(0, 100));
        Stored("maxmemory-clients", "0", Memory(0, long.MaxValue));
        Stored("lfu-log-factor", "10", Integer(0, int.MaxValue));
        Stored("lfu-decay-time", "1", Integer(0, int.MaxValue));
        Stored("active-expire-effort", "1", Integer(1, 10));
        Stored("busy-reply-threshold", "5000", Integer(0, long.MaxValue), "lua-time-limit");
        Add("slowlog-log-slower-than", () => Num(node.SlowLog.ThresholdMicroseconds), Integer(-1, long.MaxValue), v => node.SlowLog.ThresholdMicroseconds = (long)v);
        Add("slowlog-max-len", () => Num(node.SlowLog.MaxLength), Integer(0, int.MaxValue), v => node.SlowLog.MaxLength = (int)(long)v);
        Stored("latency-monitor-threshold", "0", Integer(0, long.MaxValue));
        Stored("latency-tracking", "yes", Bool);
        Add("lease-stale", () => Num(node.Engine.LeaseStaleMs), Integer(0, int.MaxValue), v => node.Engine.LeaseStaleMs = (long)v);
        Add("hotkey-share", () => node.Engine.HotKeyThresholds.Share.ToString(CultureInfo.InvariantCulture), ParseShare,
            v => node.Engine.HotKeyThresholds = node.Engine.HotKeyThresholds with { Share = (double)v });
        Add("hotkey-min-rate", () => Num(node.Engine.HotKeyThresholds.MinRate), Integer(0, long.MaxValue),
            v => node.Engine.HotKeyThresholds = node.Engine.HotKeyThresholds with { MinRate = (long)v });
        Add("hotkey-max-value-size", () => Num(node.HotKeys?.MaxValueBytes ?? options.HotKeyMaxValueBytes), Memory(0, int.MaxValue), v =>
        {
            options.HotKeyMaxValueSize = Num((long)v);
            if (node.HotKeys is { } hotKeys) hotKeys.MaxValueBytes = (int)(long)v;
        });
        // fixed at startup: the detectors' window and whether they and replication exist at all
        Add("hotkey-window", () => Num(options.HotKeyWindow), null, null);
        Add("hotkey-detection", () => options.HotKeyDetection ? "yes" : "no", null, null);
        Add("hotkey-replication", () => node.HotKeys is null ? "no" : "yes", null, null);
        Add("tracking-table-max-keys", () => Num(node.Tracking.MaxKeys), Integer(0, long.MaxValue), v => node.Tracking.MaxKeys = (long)v);
        Stored("tcp-keepalive", "300", Integer(0, int.MaxValue));
        // the pubsub class is enforced on subscribers (disconnected past it); the others are kept for clients that read them
        _values["client-output-buffer-limit"] = MergeOutputBufferLimits(DefaultOutputBufferLimits, options.ClientOutputBufferLimit).Merged!;
        Add("client-output-buffer-limit", () => _values["client-output-buffer-limit"], ParseOutputBufferLimit, v =>
        {
            _values["client-output-buffer-limit"] = (string)v;
            options.ClientOutputBufferLimit = (string)v;
            node.PubSub.Limit = PubSub.OutputBufferLimit.Parse((string)v, "pubsub");
        });
        Add("notify-keyspace-events", () => PubSub.KeyspaceNotifier.Format(node.Keyspace.Flags), ParseKeyspaceEvents, v =>
        {
            options.NotifyKeyspaceEvents = PubSub.KeyspaceNotifier.Format((PubSub.KeyspaceEvents)v);
            node.ApplyKeyspaceEvents((PubSub.KeyspaceEvents)v);
        });
        Stored("loglevel", "notice", Enum("debug", "verbose", "notice", "warning", "nothing"));
        Stored("protected-mode", "no", Bool);
        Stored("replica-read-only", "yes", Bool, "slave-read-only");
        Stored("replica-serve-stale-data", "yes", Bool, "slave-serve-stale-data");
        Stored("replica-priority", "100", Integer(0, int.MaxValue), "slave-priority");
        Stored("min-replicas-to-write", "0", Integer(0, int.MaxValue), "min-slaves-to-write");
        Stored("min-replicas-max-lag", "10", Integer(0, int.MaxValue), "min-slaves-max-lag");
        Stored("lazyfree-lazy-eviction", "no", Bool);
        Stored("lazyfree-lazy-expire", "no", Bool);
        Stored("lazyfree-lazy-server-del", "no", Bool);
        Stored("lazyfree-lazy-user-del", "no", Bool);
        Stored("lazyfree-lazy-user-flush", "no", Bool);
        Stored("activedefrag", "no", Bool);
        Stored("stop-writes-on-bgsave-error", "yes", Bool);
        Stored("appendfsync", "everysec", Enum("everysec", "always", "no"));
        // protected configs in Redis 7 (enable-protected-configs no): readable, not settable at runtime
        Stored("dbfilename", "dump.rdb", Protected);
        Stored("dir", Directory.GetCurrentDirectory(), Protected);
        // no persistence on this node: only its "off" values are accepted
        Stored("save", "", v => v.Trim().Length == 0 ? ("", null) : (null, "AkkaCache does not save snapshots to disk"));
        Stored("appendonly", "no", ParseAppendOnly);
        Stored("appendfilename", "appendonly.aof", null);
        Stored("daemonize", "no", null);
        Stored("logfile", "", null);
        Stored("io-threads", "1", null);
        Stored("tcp-backlog", "511", null);
        Stored("unixsocket", "", null);
        Stored("supervised", "no", null);
    }

    private void Add(string name, Func<string> read, Func<string, (object?, string?)>? parse, Action<object>? apply, params string[] aliases)
    {
        var parameter = new Parameter([name, .. aliases], read, parse, apply);
        _parameters.Add(parameter);
        foreach (var n in parameter.Names) _byName.Add(n, parameter);
    }

    /// <summary>A parameter whose value lives in this store; <paramref name="parse"/> null = immutable.</summary>
    private void Stored(string name, string initial, Func<string, (object?, string?)>? parse, params string[] aliases)
    {
        _values[name] = initial;
        Add(name, () => _values[name], parse, v => _values[name] = v is long n ? Num(n) : (string)v, aliases);
    }

    private static (object?, string?) ParseKeyspaceEvents(string value) =>
        PubSub.KeyspaceNotifier.Parse(value) is { } flags ? (flags, null) : (null, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");

    private static (object?, string?) Protected(string value) => (null, "can't set protected config");

    private static (object?, string?) ParseHz(string value)
    {
        var (n, error) = Integer(0, int.MaxValue)(value);
        return error is null ? (Math.Clamp((long)n!, 1, 500), null) : (null, error);
    }

    private static (object?, string?) ParseShare(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double share) && share is >= 0 and <= 1
            ? (share, null)
            : (null, "argument must be a number between 0 and 1");

    private static (object?, string?) ParseAppendOnly(string value)
    {
        var (yesNo, error) = Bool(value);
        if (error is not null) return (null, error);
        return (string)yesNo! == "no" ? ("no", null) : (null, "AkkaCache has no append-only file");
    }

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static (object?, string?) ParsePolicy(string value) =>
        EvictionPolicyNames.TryParse(value, out var kind)
            ? (kind, null)
            : (null, "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction");

    private static Func<string, (object?, string?)> Memory(long min, long max) => value =>
    {
        if (value.Length == 0 || value[0] == '-' || !MemorySize.TryParse(value, out long bytes)) return (null, "argument must be a memory value");
        if (bytes < min || bytes > max) return (null, $"argument must be between {min} and {max} inclusive");
        return (bytes, null);
    };

    private static Func<string, (object?, string?)> Integer(long min, long max) => value =>
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)) return (null, "argument couldn't be parsed into an integer");
        if (n < min || n > max) return (null, $"argument must be between {min} and {max} inclusive");
        return (n, null);
    };

    private static (object?, string?) Bool(string value) =>
        value.Equals("yes", StringComparison.OrdinalIgnoreCase) ? ("yes", null)
        : value.Equals("no", StringComparison.OrdinalIgnoreCase) ? ("no", null)
        : (null, "argument must be 'yes' or 'no'");

    private static Func<string, (object?, string?)> Enum(params string[] names) => value =>
    {
        foreach (var name in names)
            if (name.Equals(value, StringComparison.OrdinalIgnoreCase)) return (name, null);
        return (null, "argument(s) must be one of the following: " + string.Join(", ", names));
    };

    /// <summary>Redis's client-output-buffer-limit default, in bytes.</summary>
    internal const string DefaultOutputBufferLimits = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

    private (object?, string?) ParseOutputBufferLimit(string value) => MergeOutputBufferLimits(_values["client-output-buffer-limit"], value);

    /// <summary>"class hard soft seconds ..." merged into the <paramref name="setting"/>, as Redis does (replica = slave); the merged setting or the error.</summary>
    internal static (string? Merged, string? Error) MergeOutputBufferLimits(string setting, string value)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length % 4 != 0) return (null, "Wrong number of arguments in buffer limit configuration.");
        var current = setting.Split(' ');
        var limits = new Dictionary<string, string[]>(StringComparer.Ordinal);
        for (int i = 0; i + 3 < current.Length; i += 4) limits[current[i]] = current[(i + 1)..(i + 4)];
        for (int i = 0; i < parts.Length; i += 4)
        {
            string cls = parts[i].ToLowerInvariant();
            if (cls == "replica") cls = "slave";
            if (cls is not ("normal" or "slave" or "pubsub")) return (null, "Invalid client class specified in buffer limit configuration.");
            if (!MemorySize.TryParse(parts[i + 1], out long hard) || !MemorySize.TryParse(parts[i + 2], out long soft)
                || !long.TryParse(parts[i + 3], NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
                return (null, "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
            limits[cls] = [Num(hard), Num(soft), Num(seconds)];
        }
        return (string.Join(' ', new[] { "normal", "slave", "pubsub" }.Select(c => $"{c} {string.Join(' ', limits[c])}")), null);
    }

    private sealed class Parameter(string[] names, Func<string> read, Func<string, (object?, string?)>? parse, Action<object>? apply)
    {
        public string[] Names { get; } = names;
        public Func<string> Read { get; } = read;
        public Func<string, (object? Value, string? Error)>? Parse { get; } = parse;
        public Action<object>? Apply { get; } = apply;
    }
}

/// <summary>Counter values INFO subtracts, taken by CONFIG RESETSTAT.</summary>
internal sealed record StatsBaseline(long Hits, long Misses, long Expired, long Evicted, long Commands, long Connections);

