using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using AkkaCache.Core.Eviction;

namespace AkkaCache.Server.Commands;

/// <summary>
/// The text of INFO: Redis 7's sections and field names (those client libraries, exporters and dashboards parse),
/// with this node's values. Fields for features the node does not have (persistence, replication, Lua) are present
/// with the values a Redis without them reports, so parsers find every field they expect.
/// </summary>
internal static class InfoReport
{
    /// <summary>The Redis version reported to clients (they gate features on it); the node's own is <c>akkacache_version</c>.</summary>
    public const string RedisVersion = "7.2.0";

    [Flags]
    public enum Section
    {
        None = 0,
        Server = 1 << 0,
        Clients = 1 << 1,
        Memory = 1 << 2,
        Persistence = 1 << 3,
        Stats = 1 << 4,
        Replication = 1 << 5,
        Cpu = 1 << 6,
        Modules = 1 << 7,
        Commandstats = 1 << 8,
        Errorstats = 1 << 9,
        Latencystats = 1 << 10,
        Cluster = 1 << 11,
        Keyspace = 1 << 12,
        Default = Server | Clients | Memory | Persistence | Stats | Replication | Cpu | Modules | Errorstats | Cluster | Keyspace,
        All = Default | Commandstats | Latencystats,
    }

    public static readonly string AkkaCacheVersion =
        typeof(InfoReport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>The sections INFO's arguments name (case-insensitive; unknown names select nothing, as in Redis).</summary>
    public static Section Parse(IEnumerable<string> names)
    {
        var sections = Section.None;
        bool any = false;
        foreach (var raw in names)
        {
            any = true;
            sections |= raw.ToLowerInvariant() switch
            {
                "default" => Section.Default,
                "all" or "everything" => Section.All,
                "server" => Section.Server,
                "clients" => Section.Clients,
                "memory" => Section.Memory,
                "persistence" => Section.Persistence,
                "stats" => Section.Stats,
                "replication" => Section.Replication,
                "cpu" => Section.Cpu,
                "modules" or "module_list" => Section.Modules,
                "commandstats" => Section.Commandstats,
                "errorstats" => Section.Errorstats,
                "latencystats" => Section.Latencystats,
                "cluster" => Section.Cluster,
                "keyspace" => Section.Keyspace,
                _ => Section.None,
            };
        }
        return any ? sections : Section.Default;
    }

    /// <summary>
    /// Counters summed over every shard. These are racy reads of fields the shard actors write (without entering the
    /// shards, which INFO must not wait for): each value is a recent one, not a snapshot consistent across shards —
    /// as good as INFO needs, and Redis's own counters are just as momentary.
    /// </summary>
    /// <param name="Keys">Every key held, replica copies included (what the memory holds).</param>
    /// <param name="LedKeys">Keys of the shards this node leads (what DBSIZE counts, INFO's db0).</param>
    /// <param name="LedVolatile">Of those, keys with a TTL.</param>
    public readonly record struct ShardTotals(long Keys, long Volatile, long Hits, long Misses, long Expired, long Evicted, long LiveBytes, long LedKeys, long LedVolatile);

    public static ShardTotals SumShards(CacheNode node)
    {
        long keys = 0, volatileKeys = 0, hits = 0, misses = 0, expired = 0, evicted = 0, live = 0, ledKeys = 0, ledVolatile = 0;
        foreach (var shard in node.Engine.Shards)
        {
            var table = shard.Table;
            keys += table.Count;
            volatileKeys += table.VolatileCount;
            if (node.Leads(shard.Index))
            {
                ledKeys += table.Count;
                ledVolatile += table.VolatileCount;
            }
            hits += table.Hits;
            misses += table.Misses;
            expired += table.ExpiredCount;
            evicted += table.EvictedCount;
            live += table.LiveBytes;
        }
        return new ShardTotals(keys, volatileKeys, hits, misses, expired, evicted, live, ledKeys, ledVolatile);
    }

    public static StatsBaseline CurrentCounters(CacheNode node)
    {
        var totals = SumShards(node);
        return new StatsBaseline(totals.Hits, totals.Misses, totals.Expired, totals.Evicted, node.Clients.CommandsProcessed, node.Clients.ConnectionsReceived);
    }

    public static string Build(CacheNode node, Section sections)
    {
        var text = new StringBuilder(4096);
        var totals = SumShards(node);
        var config = node.Config;
        var baseline = config.Baseline;
        long nowMs = node.NowMs;
        long uptime = Math.Max(0, (nowMs - node.StartedMs) / 1000);
        long used = node.Engine.Memory.Allocated;
        long peak = config.ObservePeak(used);

        void Header(string name)
        {
            if (text.Length > 0) text.Append("\r\n");
            text.Append("# ").Append(name).Append("\r\n");
        }

        void Field(string name, object value) =>
            text.Append(name).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");

        if ((sections & Section.Server) != 0)
        {
            Header("Server");
            Field("redis_version", RedisVersion);
            Field("redis_git_sha1", "00000000");
            Field("redis_git_dirty", 0);
            Field("redis_build_id", "0");
            Field("redis_mode", node.IsClusterMode ? "cluster" : "standalone");
            Field("os", OsDescription());
            Field("arch_bits", IntPtr.Size * 8);
            Field("monotonic_clock", "POSIX clock_gettime");
            Field("multiplexing_api", OperatingSystem.IsLinux() ? "epoll" : OperatingSystem.IsWindows() ? "iocp" : "kqueue");
            Field("atomicvar_api", "c11-builtin");
            Field("gcc_version", "0.0.0");
            Field("process_id", Environment.ProcessId);
            Field("process_supervised", "no");
            Field("run_id", node.RunId);
            Field("tcp_port", node.Port);
            Field("server_time_usec", UnixMicroseconds(node.Time));
            Field("uptime_in_seconds", uptime);
            Field("uptime_in_days", uptime / 86400);
            Field("hz", config.Hz);
            Field("configured_hz", config.Hz);
            Field("lru_clock", nowMs / 1000 & ((1 << 24) - 1));
            Field("executable", Environment.ProcessPath ?? "");
            Field("config_file", "");
            Field("io_threads_active", 0);
            Field("listener0", $"name=tcp,bind={node.Options.Bind},port={node.Port}");
            Field("akkacache_version", AkkaCacheVersion);
            Field("akkacache_shards", node.Engine.Shards.Length);
            Field("dotnet_version", Environment.Version);
        }

        if ((sections & Section.Clients) != 0)
        {
            Header("Clients");
            Field("connected_clients", node.Clients.Count);
            Field("cluster_connections", 0);
            Field("maxclients", config.MaxClients);
            Field("client_recent_max_input_buffer", 0);
            Field("client_recent_max_output_buffer", 0);
            Field("blocked_clients", 0);
            Field("tracking_clients", node.Tracking.TrackerCount);
            Field("pubsub_clients", node.Clients.All.Count(c => c.IsPubSub));
            Field("watching_clients", node.Clients.All.Count(c => c.WatchedKeys > 0));
            Field("clients_in_timeout_table", 0);
            Field("total_watched_keys", node.Clients.All.Sum(c => (long)c.WatchedKeys));
            Field("total_blocking_keys", 0);
            Field("total_blocking_keys_on_nokey", 0);
        }

        if ((sections & Section.Memory) != 0)
        {
            long rss = Environment.WorkingSet;
            long dataset = Math.Min(totals.LiveBytes, used);
            long overhead = used - dataset;
            long maxMemory = node.Engine.Memory.Limit;
            long systemMemory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            Header("Memory");
            Field("used_memory", used);
            Field("used_memory_human", Human(used));
            Field("used_memory_rss", rss);
            Field("used_memory_rss_human", Human(rss));
            Field("used_memory_peak", peak);
            Field("used_memory_peak_human", Human(peak));
            Field("used_memory_peak_perc", Percent(used, peak) + "%");
            Field("used_memory_overhead", overhead);
            Field("used_memory_startup", 0);
            Field("used_memory_dataset", dataset);
            Field("used_memory_dataset_perc", Percent(dataset, used) + "%");
            Field("allocator_allocated", used);
            Field("allocator_active", used);
            Field("allocator_resident", rss);
            Field("total_system_memory", systemMemory);
            Field("total_system_memory_human", Human(systemMemory));
            Field("used_memory_lua", 0);
            Field("used_memory_vm_eval", 0);
            Field("used_memory_lua_human", "0B");
            Field("used_memory_scripts_eval", 0);
            Field("number_of_cached_scripts", 0);
            Field("number_of_functions", 0);
            Field("number_of_libraries", 0);
            Field("used_memory_vm_functions", 0);
            Field("used_memory_vm_total", 0);
            Field("used_memory_vm_total_human", "0B");
            Field("used_memory_functions", 0);
            Field("used_memory_scripts", 0);
            Field("used_memory_scripts_human", "0B");
            Field("maxmemory", maxMemory);
            Field("maxmemory_human", Human(maxMemory));
            Field("maxmemory_policy", EvictionPolicyNames.ToRedisName(node.Engine.MaxMemoryPolicy));
            Field("allocator_frag_ratio", Ratio(1, 1));
            Field("allocator_frag_bytes", 0);
            Field("allocator_rss_ratio", Ratio(rss, used));
            Field("allocator_rss_bytes", rss - used);
            Field("rss_overhead_ratio", Ratio(1, 1));
            Field("rss_overhead_bytes", 0);
            Field("mem_fragmentation_ratio", Ratio(rss, used));
            Field("mem_fragmentation_bytes", rss - used);
            Field("mem_not_counted_for_evict", 0);
            Field("mem_replication_backlog", 0);
            Field("mem_total_replication_buffers", 0);
            Field("mem_clients_slaves", 0);
            Field("mem_clients_normal", 0);
            Field("mem_cluster_links", 0);
            Field("mem_aof_buffer", 0);
            Field("mem_allocator", "dotnet");
            Field("active_defrag_running", 0);
            Field("lazyfree_pending_objects", 0);
            Field("lazyfreed_objects", 0);
        }

        if ((sections & Section.Persistence) != 0)
        {
            Header("Persistence");
            Field("loading", 0);
            Field("async_loading", 0);
            Field("current_cow_peak", 0);
            Field("current_cow_size", 0);
            Field("current_cow_size_age", 0);
            Field("current_fork_perc", "0.00");
            Field("current_save_keys_processed", 0);
            Field("current_save_keys_total", 0);
            Field("rdb_changes_since_last_save", 0);
            Field("rdb_bgsave_in_progress", 0);
            Field("rdb_last_save_time", node.StartedMs / 1000);
            Field("rdb_last_bgsave_status", "ok");
            Field("rdb_last_bgsave_time_sec", -1);
            Field("rdb_current_bgsave_time_sec", -1);
            Field("rdb_saves", 0);
            Field("rdb_last_cow_size", 0);
            Field("rdb_last_load_keys_expired", 0);
            Field("rdb_last_load_keys_loaded", 0);
            Field("aof_enabled", 0);
            Field("aof_rewrite_in_progress", 0);
            Field("aof_rewrite_scheduled", 0);
            Field("aof_last_rewrite_time_sec", -1);
            Field("aof_current_rewrite_time_sec", -1);
            Field("aof_last_bgrewrite_status", "ok");
            Field("aof_rewrites", 0);
            Field("aof_rewrites_consecutive_failures", 0);
            Field("aof_last_write_status", "ok");
            Field("aof_last_cow_size", 0);
            Field("module_fork_in_progress", 0);
            Field("module_fork_last_cow_size", 0);
        }

        if ((sections & Section.Stats) != 0)
        {
            Header("Stats");
            Field("total_connections_received", node.Clients.ConnectionsReceived - baseline.Connections);
            Field("total_commands_processed", node.Clients.CommandsProcessed - baseline.Commands);
            Field("instantaneous_ops_per_sec", 0);
            Field("total_net_input_bytes", 0);
            Field("total_net_output_bytes", 0);
            Field("total_net_repl_input_bytes", 0);
            Field("total_net_repl_output_bytes", 0);
            Field("instantaneous_input_kbps", "0.00");
            Field("instantaneous_output_kbps", "0.00");
            Field("instantaneous_input_repl_kbps", "0.00");
            Field("instantaneous_output_repl_kbps", "0.00");
            Field("rejected_connections", 0);
            Field("sync_full", 0);
            Field("sync_partial_ok", 0);
            Field("sync_partial_err", 0);
            Field("expired_keys", totals.Expired - baseline.Expired);
            Field("expired_stale_perc", "0.00");
            Field("expired_time_cap_reached_count", 0);
            Field("expire_cycle_cpu_milliseconds", 0);
            Field("evicted_keys", totals.Evicted - baseline.Evicted);
            Field("evicted_clients", 0);
            Field("total_eviction_exceeded_time", 0);
            Field("current_eviction_exceeded_time", 0);
            Field("keyspace_hits", totals.Hits - baseline.Hits);
            Field("keyspace_misses", totals.Misses - baseline.Misses);
            Field("pubsub_channels", node.PubSub.ChannelCount);
            Field("pubsub_patterns", node.PubSub.PatternCount);
            Field("pubsubshard_channels", 0);
            // AkkaCache's own: messages a peer missed (cluster mode only, where PUBLISH is forwarded)
            if (node.PubSubForwarder is { } forwarder) Field("pubsub_forward_dropped", forwarder.Dropped);
            // AkkaCache's own: keys over both hot-key thresholds (AC.HOTKEYS names them)
            Field("hotkeys", HotKeyCommands.PeekCount(node.Engine, node.NowMs));
            // AkkaCache's own: hot-key replication (cluster mode): keys this node promoted, copies it holds of others',
            // and the reads it answered from those copies without a hop
            if (node.HotKeys is { } hotKeys)
            {
                var hot = hotKeys.Stats();
                Field("hotkeys_promoted", hot.Promoted);
                Field("hotkeys_copies", hot.Copies);
                Field("hotkeys_promotions", hot.Promotions);
                Field("hotkeys_demotions", hot.Demotions);
                Field("hotkeys_local_reads", node.Clients.HotReadsServed);
                Field("hotkeys_write_waits", hot.WritesWaited);
                Field("hotkeys_sessions_ended", hot.SessionsEnded);
            }
            Field("latest_fork_usec", 0);
            Field("total_forks", 0);
            Field("migrate_cached_sockets", 0);
            Field("slave_expires_tracked_keys", 0);
            Field("active_defrag_hits", 0);
            Field("active_defrag_misses", 0);
            Field("active_defrag_key_hits", 0);
            Field("active_defrag_key_misses", 0);
            Field("total_active_defrag_time", 0);
            Field("current_active_defrag_time", 0);
            var tracking = node.Tracking.Counts();
            Field("tracking_total_keys", tracking.Keys);
            Field("tracking_total_items", tracking.Items);
            Field("tracking_total_prefixes", tracking.Prefixes);
            Field("unexpected_error_replies", 0);
            Field("total_error_replies", 0);
            Field("dump_payload_sanitizations", 0);
            Field("total_reads_processed", 0);
            Field("total_writes_processed", 0);
            Field("io_threaded_reads_processed", 0);
            Field("io_threaded_writes_processed", 0);
            Field("reply_buffer_shrinks", 0);
            Field("reply_buffer_expands", 0);
        }

        if ((sections & Section.Replication) != 0)
        {
            Header("Replication");
            // in a cluster every node leads some shards and follows others: role is master, the rest is per shard
            var replication = node.Replication?.Stats() ?? default;
            var roles = ShardRoleCounts(node);
            Field("role", "master");
            Field("connected_slaves", replication.Links);
            Field("master_failover_state", "no-failover");
            Field("master_replid", node.RunId);
            Field("master_replid2", new string('0', 40));
            Field("master_repl_offset", 0);
            Field("second_repl_offset", -1);
            Field("repl_backlog_active", 0);
            Field("repl_backlog_size", 1048576);
            Field("repl_backlog_first_byte_offset", 0);
            Field("repl_backlog_histlen", 0);
            if (node.Replication is not null)
            {
                Field("akkacache_shards_primary", roles.Primary);
                Field("akkacache_shards_replica", roles.Replica);
                Field("akkacache_shards_importing", roles.Importing);
                Field("akkacache_repl_offset_led", replication.LedOffset);
                Field("akkacache_repl_offset_applied", replication.AppliedOffset);
                Field("akkacache_repl_streams", replication.Streams);
                Field("akkacache_repl_streams_lagging", replication.Lagging);
                Field("akkacache_repl_lag_writes", replication.LagWrites);
                Field("akkacache_repl_bytes_sent", replication.BytesSent);
            }
        }

        if ((sections & Section.Cpu) != 0)
        {
            using var process = Process.GetCurrentProcess();
            Header("CPU");
            Field("used_cpu_sys", Seconds(process.PrivilegedProcessorTime));
            Field("used_cpu_user", Seconds(process.UserProcessorTime));
            Field("used_cpu_sys_children", "0.000000");
            Field("used_cpu_user_children", "0.000000");
        }

        if ((sections & Section.Modules) != 0) Header("Modules");
        var commandStats = (sections & (Section.Commandstats | Section.Latencystats)) != 0 ? node.Clients.CommandStats.Snapshot() : null;
        if ((sections & Section.Commandstats) != 0)
        {
            Header("Commandstats");
            foreach (var (field, value) in ServerCommands.CommandStatsLines(commandStats!)) Field(field, value);
        }
        if ((sections & Section.Errorstats) != 0) Header("Errorstats");
        if ((sections & Section.Latencystats) != 0)
        {
            Header("Latencystats");
            foreach (var (field, value) in ServerCommands.LatencyStatsLines(commandStats!)) Field(field, value);
        }

        if ((sections & Section.Cluster) != 0)
        {
            Header("Cluster");
            Field("cluster_enabled", node.IsClusterMode ? 1 : 0);
            if (node.Cluster is { } agent)
            {
                var stats = node.Replication!.Stats();
                Field("cluster_state", agent.CanServe ? "ok" : "fail");
                Field("cluster_current_epoch", agent.Topology?.Epoch ?? 0);
                Field("cluster_leader", agent.IsLeader ? 1 : 0);
                Field("cluster_lease_valid", agent.Guard.IsValid ? 1 : 0);
                Field("cluster_shards_migrating", stats.Migrating);
                Field("cluster_migration_bytes_sent", stats.BytesSent);
            }
        }

        if ((sections & Section.Keyspace) != 0)
        {
            Header("Keyspace");
            if (totals.LedKeys > 0)
                Field("db0", $"keys={totals.LedKeys},expires={totals.LedVolatile},avg_ttl=0");
            // copies of other nodes' shards (replicas, shards moving here): on a line of their own, as db0 is DBSIZE
            if (node.IsClusterMode)
                Field("akkacache_replica_copies", $"keys={totals.Keys - totals.LedKeys},expires={totals.Volatile - totals.LedVolatile}");
        }

        return text.ToString();
    }

    /// <summary>Redis's bytesToHuman: "512B", "1.50K", "2.00M", "1.00G", ...</summary>
    public static string Human(long bytes)
    {
        const double K = 1024;
        return bytes switch
        {
            < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + "B",
            < 1024 * 1024 => Fixed2(bytes / K) + "K",
            < 1024L * 1024 * 1024 => Fixed2(bytes / (K * K)) + "M",
            < 1024L * 1024 * 1024 * 1024 => Fixed2(bytes / (K * K * K)) + "G",
            < 1024L * 1024 * 1024 * 1024 * 1024 => Fixed2(bytes / (K * K * K * K)) + "T",
            _ => Fixed2(bytes / (K * K * K * K * K)) + "P",
        };
    }

    public static long UnixMicroseconds(TimeProvider time) => (time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) / 10;

    private static string Fixed2(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private static string Ratio(long numerator, long denominator) => Fixed2(denominator == 0 ? 0 : (double)numerator / denominator);

    private static string Percent(long part, long whole) => Fixed2(whole == 0 ? 0 : part * 100.0 / whole);

    private static string Seconds(TimeSpan time)
    {
        long micros = time.Ticks / 10;
        return string.Create(CultureInfo.InvariantCulture, $"{micros / 1_000_000}.{micros % 1_000_000:D6}");
    }

    /// <summary>As uname's "sysname release machine".</summary>
    private static string OsDescription()
    {
        string name = OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsMacOS() ? "Darwin" : OperatingSystem.IsWindows() ? "Windows" : "Unknown";
        string machine = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86_64",
            Architecture.Arm64 => OperatingSystem.IsLinux() ? "aarch64" : "arm64",
            Architecture.X86 => "i686",
            var other => other.ToString().ToLowerInvariant(),
        };
        return $"{name} {Environment.OSVersion.Version} {machine}";
    }

    private static (int Primary, int Replica, int Importing) ShardRoleCounts(CacheNode node)
    {
        var topology = node.Cluster?.Topology;
        if (topology is null) return (0, 0, 0);
        int primary = 0, replica = 0, importing = 0;
        for (int shard = 0; shard < topology.Map.ShardCount; shard++)
        {
            switch (topology.RoleOf(shard))
            {
                case AkkaCache.Cluster.Topology.ShardRole.Primary: primary++; break;
                case AkkaCache.Cluster.Topology.ShardRole.Replica: replica++; break;
                case AkkaCache.Cluster.Topology.ShardRole.Importing: importing++; break;
            }
        }
        return (primary, replica, importing);
    }
}
