namespace AkkaCache.Server.Configuration;

/// <summary>
/// redis-server style switches (<c>--port 7000 --maxmemory 2gb</c>) translated to the configuration keys they alias,
/// so the command line, the HOCON <c>akkacache</c> section (keyed by the same names) and environment variables share
/// one schema.
/// </summary>
public static class CommandLineOptions
{
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["port"] = nameof(NodeOptions.Port),
        ["bind"] = nameof(NodeOptions.Bind),
        ["maxmemory"] = nameof(NodeOptions.MaxMemory),
        ["maxmemory-policy"] = nameof(NodeOptions.MaxMemoryPolicy),
        ["proto-max-bulk-len"] = nameof(NodeOptions.ProtoMaxBulkLen),
        ["client-query-buffer-limit"] = nameof(NodeOptions.ClientQueryBufferLimit),
        ["client-output-buffer-limit"] = nameof(NodeOptions.ClientOutputBufferLimit),
        ["max-arguments"] = nameof(NodeOptions.MaxArguments),
        ["requirepass"] = nameof(NodeOptions.RequirePass),
        ["notify-keyspace-events"] = nameof(NodeOptions.NotifyKeyspaceEvents),
        ["timeout"] = nameof(NodeOptions.Timeout),
        ["hz"] = nameof(NodeOptions.Hz),
        ["lease-stale"] = nameof(NodeOptions.LeaseStale),
        ["hotkey-detection"] = nameof(NodeOptions.HotKeyDetection),
        ["hotkey-window"] = nameof(NodeOptions.HotKeyWindow),
        ["hotkey-share"] = nameof(NodeOptions.HotKeyShare),
        ["hotkey-min-rate"] = nameof(NodeOptions.HotKeyMinRate),
        ["hotkey-replication"] = nameof(NodeOptions.HotKeyReplication),
        ["hotkey-max-value-size"] = nameof(NodeOptions.HotKeyMaxValueSize),
        ["slowlog-log-slower-than"] = nameof(NodeOptions.SlowlogLogSlowerThan),
        ["slowlog-max-len"] = nameof(NodeOptions.SlowlogMaxLen),
        ["admin-port"] = nameof(NodeOptions.AdminPort),
        ["otlp-endpoint"] = nameof(NodeOptions.OtlpEndpoint),
        ["otlp-protocol"] = nameof(NodeOptions.OtlpProtocol),
        ["otlp-export-interval"] = nameof(NodeOptions.OtlpExportInterval),
        ["shards"] = nameof(NodeOptions.Shards),
        ["databases"] = nameof(NodeOptions.Databases),
        ["inline-when-idle"] = nameof(NodeOptions.InlineWhenIdle),
        ["inline-socket-completions"] = nameof(NodeOptions.InlineSocketCompletions),
        ["cluster-enabled"] = nameof(NodeOptions.ClusterEnabled),
        ["cluster-port"] = nameof(NodeOptions.ClusterPort),
        ["seed-nodes"] = nameof(NodeOptions.SeedNodes),
        ["split-brain-resolver"] = nameof(NodeOptions.SplitBrainResolver),
        ["static-quorum-size"] = nameof(NodeOptions.StaticQuorumSize),
        ["akka-config"] = nameof(NodeOptions.AkkaConfig),
        ["cluster-name"] = nameof(NodeOptions.ClusterName),
        ["node-id"] = nameof(NodeOptions.NodeId),
        ["announce"] = nameof(NodeOptions.Announce),
        ["zone"] = nameof(NodeOptions.Zone),
        ["replicas"] = nameof(NodeOptions.Replicas),
        ["cluster-max-shards-in-flight"] = nameof(NodeOptions.ClusterMaxShardsInFlight),
        ["cluster-proxy"] = nameof(NodeOptions.ClusterProxy),
        ["cluster-advertise-replicas"] = nameof(NodeOptions.ClusterAdvertiseReplicas),
        ["cluster-snapshot-rate"] = nameof(NodeOptions.ClusterSnapshotRate),
    };

    /// <summary>The switches (without "--") that alias configuration keys; --config FILE and --AkkaCache:Key come on top.</summary>
    public static IReadOnlyCollection<string> Switches => Aliases.Keys;

    public sealed record Parsed(Dictionary<string, string?> Settings, string? ConfigFile);

    /// <summary>Parses <c>--name value</c>, <c>--name=value</c> and <c>--AkkaCache:Key value</c>; throws <see cref="ArgumentException"/> naming a bad switch.</summary>
    public static Parsed Parse(string[] args)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        string? configFile = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new ArgumentException($"Unexpected argument '{arg}': switches look like --port 6379.");
            string name = arg[2..];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else
            {
                if (i + 1 >= args.Length) throw new ArgumentException($"Switch --{name} needs a value.");
                value = args[++i];
            }

            if (name.Equals("config", StringComparison.OrdinalIgnoreCase))
            {
                configFile = value;
                continue;
            }
            if (name.StartsWith(NodeOptions.SectionName + ":", StringComparison.OrdinalIgnoreCase))
            {
                settings[name] = value;
                continue;
            }
            if (!TryMap(name, value, out var key, out var mapped))
                throw new ArgumentException($"Unknown switch --{name}. Known: --config, {string.Join(", ", Aliases.Keys.Select(k => "--" + k))}.");
            settings[key] = mapped;
        }
        return new Parsed(settings, configFile);
    }

    /// <summary>
    /// The configuration entries of a HOCON <c>akkacache</c> section, whose keys are the switch names; throws
    /// <see cref="InvalidOperationException"/> naming an unknown key and <paramref name="source"/>.
    /// </summary>
    public static Dictionary<string, string?> FromHocon(IEnumerable<KeyValuePair<string, string>> settings, string source)
    {
        var entries = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in settings)
        {
            if (!TryMap(name, value, out var key, out var mapped))
                throw new InvalidOperationException($"Unknown setting akkacache.{name} in '{source}'. Known: {string.Join(", ", Aliases.Keys)}.");
            entries[key] = mapped;
        }
        return entries;
    }

    /// <summary>A switch name and its value as the configuration entry they set ("AkkaCache:Port", "7000").</summary>
    private static bool TryMap(string name, string value, out string key, out string mapped)
    {
        mapped = value;
        if (!Aliases.TryGetValue(name, out var property))
        {
            key = "";
            return false;
        }
        key = $"{NodeOptions.SectionName}:{property}";
        // redis-server's switches and HOCON say yes / no (HOCON also on / off): so do ours for the schema's booleans
        if (typeof(NodeOptions).GetProperty(property)?.PropertyType == typeof(bool))
            mapped = value.ToLowerInvariant() switch { "yes" or "on" => "true", "no" or "off" => "false", _ => value };
        return true;
    }
}
