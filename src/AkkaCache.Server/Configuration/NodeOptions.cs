using AkkaCache.Cluster.ControlPlane;
using AkkaCache.Core.Eviction;
using Microsoft.Extensions.Configuration;

namespace AkkaCache.Server.Configuration;

/// <summary>
/// The node's settings: the <c>akkacache</c> section of hocon/akkacache.conf, then of <c>--config FILE</c>,
/// <c>AKKACACHE__*</c> environment variables and command-line switches (redis-server style aliases of the same keys,
/// see <see cref="CommandLineOptions"/>).
/// </summary>
public sealed class NodeOptions
{
    public const string SectionName = "AkkaCache";

    // Every default is in hocon/akkacache.conf (section akkacache), bound here: the initializers below only give the
    // compiler a value, and a test checks that the file names every setting.
    private static readonly IConfigurationSection ShippedDefaults = new ConfigurationBuilder()
        .AddInMemoryCollection(CommandLineOptions.FromHocon(NodeHocon.ShippedSettings, "hocon/akkacache.conf"))
        .Build()
        .GetSection(SectionName);

    /// <summary>A node's settings as shipped (hocon/akkacache.conf).</summary>
    public NodeOptions() => ShippedDefaults.Bind(this, o => o.ErrorOnUnknownConfiguration = true);

    public int Port { get; set; }
    public string Bind { get; set; } = "";

    /// <summary>Memory budget: bytes, or a size such as <c>2gb</c>, <c>512mb</c>; 0 = unlimited.</summary>
    public string MaxMemory { get; set; } = "";

    public string MaxMemoryPolicy { get; set; } = "";

    /// <summary>Largest bulk string (value, key or argument) a request may carry.</summary>
    public string ProtoMaxBulkLen { get; set; } = "";

    /// <summary>Most arguments in one request.</summary>
    public int MaxArguments { get; set; }

    /// <summary>Most bytes a client may have buffered in one unfinished request before it is disconnected.</summary>
    public string ClientQueryBufferLimit
    {
        get => _clientQueryBufferLimit;
        set
        {
            // parsed once here: the receive loop reads the byte count on every batch
            ClientQueryBufferLimitBytes = MemorySize.Parse(value, nameof(ClientQueryBufferLimit));
            _clientQueryBufferLimit = value;
        }
    }

    private string _clientQueryBufferLimit = "";

    /// <summary>
    /// Output limits per client class as redis.conf writes them, "pubsub 32mb 8mb 60": a subscriber is disconnected when
    /// its unsent messages pass the hard limit, or stay over the soft one for longer than its seconds (0 = no limit).
    /// Only the pubsub class is enforced; other classes are accepted and shown by CONFIG GET.
    /// </summary>
    public string ClientOutputBufferLimit { get; set; } = "";

    public string? RequirePass { get; set; }

    /// <summary>
    /// Keyspace notifications, Redis's notify-keyspace-events letters ("" = off): K and/or E for the channel kinds, then
    /// the classes, e.g. "KEA" or "Kx" (g generic, $ string, x expired, e evicted, A all).
    /// </summary>
    public string NotifyKeyspaceEvents { get; set; } = "";

    /// <summary>Idle seconds before a client is disconnected; 0 = never.</summary>
    public int Timeout { get; set; }

    public int Hz { get; set; }

    /// <summary>
    /// Milliseconds a deleted or expired value is kept for AC.GETL to answer [STALE, value] to callers waiting on
    /// another's lease, instead of [WAIT, nil]; 0 (default) = off.
    /// </summary>
    public int LeaseStale { get; set; }

    /// <summary>Each shard counts its keys' accesses so AC.HOTKEYS can name the hot ones.</summary>
    public bool HotKeyDetection { get; set; }

    /// <summary>Milliseconds between two halvings of the hot-key counts: the rates follow the last couple of windows.</summary>
    public int HotKeyWindow { get; set; }

    /// <summary>Share of the node's key accesses (0..1) a key needs to be hot.</summary>
    public double HotKeyShare { get; set; }

    /// <summary>Accesses per second a key needs to be hot.</summary>
    public long HotKeyMinRate { get; set; }

    /// <summary>In a cluster, hot keys are copied to every node, which then serves their reads without a hop.</summary>
    public bool HotKeyReplication { get; set; }

    /// <summary>Largest value copied to every node when its key is hot ("64kb"); bigger hot keys stay on their owner.</summary>
    public string HotKeyMaxValueSize { get; set; } = "";

    public long HotKeyMaxValueBytes => MemorySize.Parse(HotKeyMaxValueSize, nameof(HotKeyMaxValueSize));

    /// <summary>SLOWLOG records commands that run for at least this many microseconds; -1 = off, 0 = every command.</summary>
    public long SlowlogLogSlowerThan { get; set; }

    /// <summary>Entries SLOWLOG keeps (the oldest are dropped).</summary>
    public int SlowlogMaxLen { get; set; }

    /// <summary>Port of the HTTP admin endpoint (GET /health/live, /health/ready) on the bind address; 0 = off.</summary>
    public int AdminPort { get; set; }

    /// <summary>OpenTelemetry collector URL to export the AkkaCache.Server meter to over OTLP; unset = no export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>OTLP transport: "grpc" (collector port 4317) or "http/protobuf" (port 4318, path /v1/metrics).</summary>
    public string OtlpProtocol { get; set; } = "";

    /// <summary>Milliseconds between two OTLP metric exports.</summary>
    public int OtlpExportInterval { get; set; }

    public int Shards { get; set; }

    public int Databases { get; set; }

    /// <summary>Run a command on the caller's thread when its shard is idle (false: always through the shard's mailbox).</summary>
    public bool InlineWhenIdle { get; set; }

    /// <summary>
    /// Run a socket's completions (parse, execute, reply) on the socket engine's own thread instead of handing them
    /// to the thread pool. Takes effect for the executable only: it must be set before the first socket is used.
    /// </summary>
    public bool InlineSocketCompletions { get; set; }

    /// <summary>"yes" joins the Akka cluster named <see cref="ClusterName"/> through <see cref="SeedNodes"/>; "no" runs standalone.</summary>
    public string ClusterEnabled { get; set; } = "";

    /// <summary>The Akka.Remote port; 0 = the client port + 10000 (as Redis's cluster bus).</summary>
    public int ClusterPort { get; set; }

    /// <summary>host:cluster-port of the seed nodes, comma-separated; empty: this node is its own seed.</summary>
    public string SeedNodes { get; set; } = "";

    /// <summary>The Akka split brain resolver's strategy: keep-majority, static-quorum, keep-oldest or down-all.</summary>
    public string SplitBrainResolver { get; set; } = "";

    /// <summary>static-quorum's quorum size (required with that strategy).</summary>
    public int StaticQuorumSize { get; set; }

    /// <summary>A HOCON file over the node's Akka defaults (hocon/akkacache.conf); the switches still win.</summary>
    public string? AkkaConfig { get; set; }

    /// <summary>
    /// The <c>--config</c> file when it is HOCON (a switch of its own, not a setting): besides the node settings it gave,
    /// its <c>akka</c> section goes to Akka, under <see cref="AkkaConfig"/>'s.
    /// </summary>
    public string? ConfigFile { get; set; }

    /// <summary>The Akka actor system's name: clusters with different names never merge.</summary>
    public string ClusterName { get; set; } = "";

    /// <summary>This node's name in the cluster; defaults to its announced endpoint.</summary>
    public string? NodeId { get; set; }

    /// <summary>host:port clients and peers reach this node at; defaults to the bind address and port (a wildcard bind as loopback).</summary>
    public string? Announce { get; set; }

    public string? Zone { get; set; }

    /// <summary>Replicas per shard (each on another node, in another zone when zones are given).</summary>
    public int Replicas { get; set; }

    /// <summary>Shards moving between nodes at once during a rebalance.</summary>
    public int ClusterMaxShardsInFlight { get; set; }

    /// <summary>Snapshot bytes per second per peer during replica syncs and migrations ("0" = unlimited).</summary>
    public string ClusterSnapshotRate { get; set; } = "";

    public long ClusterSnapshotRateBytes => MemorySize.Parse(ClusterSnapshotRate, nameof(ClusterSnapshotRate));

    /// <summary>"yes": a node forwards requests for shards it does not own to the owner instead of redirecting.</summary>
    public string ClusterProxy { get; set; } = "";

    /// <summary>
    /// "yes": CLUSTER SLOTS and SHARDS list every copy of a shard, including members that are primaries of other
    /// shards; "no": only members that lead no shard, the layout every Redis Cluster client understands.
    /// </summary>
    public string ClusterAdvertiseReplicas { get; set; } = "";

    public IReadOnlyList<string> SeedNodeList => SeedNodes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public AkkaCache.Cluster.Membership.DowningStrategy DowningStrategy => SplitBrainResolver.Trim().ToLowerInvariant() switch
    {
        "keep-majority" => AkkaCache.Cluster.Membership.DowningStrategy.KeepMajority,
        "static-quorum" => AkkaCache.Cluster.Membership.DowningStrategy.StaticQuorum,
        "keep-oldest" => AkkaCache.Cluster.Membership.DowningStrategy.KeepOldest,
        "down-all" => AkkaCache.Cluster.Membership.DowningStrategy.DownAll,
        _ => throw new InvalidOperationException($"Invalid {SectionName}:SplitBrainResolver '{SplitBrainResolver}': expected keep-majority, static-quorum, keep-oldest or down-all."),
    };

    public bool IsClusterEnabled => YesNo(ClusterEnabled, nameof(ClusterEnabled));
    public bool IsClusterProxy => YesNo(ClusterProxy, nameof(ClusterProxy));
    public bool IsClusterAdvertiseReplicas => YesNo(ClusterAdvertiseReplicas, nameof(ClusterAdvertiseReplicas));

    private static bool YesNo(string value, string setting) => value.Trim().ToLowerInvariant() switch
    {
        "yes" or "true" or "1" => true,
        "no" or "false" or "0" => false,
        _ => throw new InvalidOperationException($"Invalid {SectionName}:{setting} '{value}': expected yes or no."),
    };

    public long MaxMemoryBytes => MemorySize.Parse(MaxMemory, nameof(MaxMemory));
    public long ProtoMaxBulkLenBytes => MemorySize.Parse(ProtoMaxBulkLen, nameof(ProtoMaxBulkLen));
    public long ClientQueryBufferLimitBytes { get; private set; } = 1L << 30;

    public EvictionPolicyKind MaxMemoryPolicyKind =>
        EvictionPolicyNames.TryParse(MaxMemoryPolicy, out var kind)
            ? kind
            : throw new InvalidOperationException($"Invalid {SectionName}:{nameof(MaxMemoryPolicy)} '{MaxMemoryPolicy}'.");

    /// <summary>Fails with a message naming the setting when a value is out of range.</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new InvalidOperationException($"Invalid {SectionName}:Port {Port}: expected 0..65535.");
        if (!System.Net.IPAddress.TryParse(Bind, out _) && Bind != "localhost" && Bind != "*")
            throw new InvalidOperationException($"Invalid {SectionName}:Bind '{Bind}': expected an IP address.");
        _ = MaxMemoryBytes;
        _ = MaxMemoryPolicyKind;
        if (Commands.ConfigStore.MergeOutputBufferLimits(Commands.ConfigStore.DefaultOutputBufferLimits, ClientOutputBufferLimit).Error is { } limitError)
            throw new InvalidOperationException($"Invalid {SectionName}:{nameof(ClientOutputBufferLimit)} '{ClientOutputBufferLimit}': {limitError}");
        if (PubSub.KeyspaceNotifier.Parse(NotifyKeyspaceEvents) is null)
            throw new InvalidOperationException($"Invalid {SectionName}:{nameof(NotifyKeyspaceEvents)} '{NotifyKeyspaceEvents}': expected Redis's notify-keyspace-events letters (K E g $ l s h z x e t d m n A).");
        long bulk = ProtoMaxBulkLenBytes;
        if (bulk < 1024 || bulk > int.MaxValue - 1024)
            throw new InvalidOperationException($"Invalid {SectionName}:ProtoMaxBulkLen {bulk}: expected 1kb..2gb.");
        if (MaxArguments < 1) throw new InvalidOperationException($"Invalid {SectionName}:MaxArguments {MaxArguments}.");
        if (LeaseStale < 0) throw new InvalidOperationException($"Invalid {SectionName}:LeaseStale {LeaseStale}: expected 0 or more milliseconds.");
        if (HotKeyWindow < 1) throw new InvalidOperationException($"Invalid {SectionName}:HotKeyWindow {HotKeyWindow}: expected 1 or more milliseconds.");
        if (!(HotKeyShare is >= 0 and <= 1)) throw new InvalidOperationException($"Invalid {SectionName}:HotKeyShare {HotKeyShare}: expected 0..1.");
        if (HotKeyMinRate < 0) throw new InvalidOperationException($"Invalid {SectionName}:HotKeyMinRate {HotKeyMinRate}: expected 0 or more per second.");
        if (HotKeyMaxValueBytes > int.MaxValue) throw new InvalidOperationException($"Invalid {SectionName}:HotKeyMaxValueSize {HotKeyMaxValueSize}: expected less than 2gb.");
        if (Hz is < 1 or > 500) throw new InvalidOperationException($"Invalid {SectionName}:Hz {Hz}: expected 1..500.");
        if (Databases != 1) throw new InvalidOperationException($"Invalid {SectionName}:Databases {Databases}: AkkaCache has one database (0).");
        _ = new Core.Keyspace.ShardLayout(Shards);
        if (SlowlogLogSlowerThan < -1) throw new InvalidOperationException($"Invalid {SectionName}:SlowlogLogSlowerThan {SlowlogLogSlowerThan}: expected -1 (off) or 0 or more microseconds.");
        if (SlowlogMaxLen < 0) throw new InvalidOperationException($"Invalid {SectionName}:SlowlogMaxLen {SlowlogMaxLen}: expected 0 or more entries.");
        if (AdminPort is < 0 or > 65535) throw new InvalidOperationException($"Invalid {SectionName}:AdminPort {AdminPort}: expected 0 (off) or 1..65535.");
        if (OtlpEndpoint is not null)
        {
            if (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var otlp) || otlp.Scheme is not ("http" or "https"))
                throw new InvalidOperationException($"Invalid {SectionName}:OtlpEndpoint '{OtlpEndpoint}': expected a URL like http://127.0.0.1:4317.");
            if (OtlpProtocol is not ("grpc" or "http/protobuf"))
                throw new InvalidOperationException($"Invalid {SectionName}:OtlpProtocol '{OtlpProtocol}': expected grpc or http/protobuf.");
            if (OtlpExportInterval < 1) throw new InvalidOperationException($"Invalid {SectionName}:OtlpExportInterval {OtlpExportInterval}: expected 1 or more milliseconds.");
        }
        // standalone too: an embedding application's in-process client finds the node by it
        if (Announce is not null) _ = ParseAnnounce(Announce);
        if (!IsClusterEnabled) return;
        _ = IsClusterProxy;
        _ = IsClusterAdvertiseReplicas;
        _ = ClusterSnapshotRateBytes;
        if (string.IsNullOrEmpty(ClusterName) || !char.IsAsciiLetterOrDigit(ClusterName[0]) || !ClusterName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new InvalidOperationException($"Invalid {SectionName}:ClusterName '{ClusterName}': expected letters, digits, '-' and '_', starting with a letter or digit (it names the Akka actor system).");
        if (ClusterPort is < 0 or > 65535) throw new InvalidOperationException($"Invalid {SectionName}:ClusterPort {ClusterPort}: expected 0 (client port + 10000) or 1..65535.");
        foreach (var seed in SeedNodeList)
        {
            int colon = seed.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(seed.AsSpan(colon + 1), out int seedPort) || seedPort is < 1 or > 65535)
                throw new InvalidOperationException($"Invalid {SectionName}:SeedNodes '{SeedNodes}': expected host:cluster-port[,host:cluster-port...].");
        }
        _ = DowningStrategy;
        if (DowningStrategy == AkkaCache.Cluster.Membership.DowningStrategy.StaticQuorum && StaticQuorumSize < 1)
            throw new InvalidOperationException($"Invalid {SectionName}:StaticQuorumSize {StaticQuorumSize}: static-quorum needs a quorum size of 1 or more.");
        if (AkkaConfig is not null && !File.Exists(AkkaConfig))
            throw new InvalidOperationException($"Invalid {SectionName}:AkkaConfig '{AkkaConfig}': no such file.");
        if (NodeId is not null && (NodeId.Length == 0 || NodeId.Any(c => c is '/' or ' ' || char.IsControl(c))))
            throw new InvalidOperationException($"Invalid {SectionName}:NodeId '{NodeId}': expected a name without spaces or '/'.");
        if (Replicas is < 0 or > 5) throw new InvalidOperationException($"Invalid {SectionName}:Replicas {Replicas}: expected 0..5.");
        if (ClusterMaxShardsInFlight < 1) throw new InvalidOperationException($"Invalid {SectionName}:ClusterMaxShardsInFlight {ClusterMaxShardsInFlight}.");
    }

    /// <summary>Splits host:port (the port last, so IPv6 hosts keep their colons).</summary>
    public static (string Host, int Port) ParseAnnounce(string announce)
    {
        int colon = announce.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(announce.AsSpan(colon + 1), out int port) || port is < 1 or > 65535)
            throw new InvalidOperationException($"Invalid {SectionName}:Announce '{announce}': expected host:port.");
        return (announce[..colon].Trim('[', ']'), port);
    }
}

/// <summary>Sizes as redis.conf writes them: 1k = 1000, 1kb = 1024, likewise m/mb, g/gb.</summary>
public static class MemorySize
{
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim().ToLowerInvariant();
        long unit = 1;
        (string Suffix, long Unit)[] units = [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024L * 1024 * 1024), ("k", 1000), ("m", 1000_000), ("g", 1000_000_000), ("b", 1)];
        foreach (var (suffix, u) in units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                unit = u;
                s = s[..^suffix.Length];
                break;
            }
        }
        if (!long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)) return false;
        if (n > long.MaxValue / unit) return false;
        bytes = n * unit;
        return true;
    }

    public static long Parse(string text, string setting) =>
        TryParse(text, out long bytes) ? bytes : throw new InvalidOperationException($"Invalid {NodeOptions.SectionName}:{setting} '{text}': expected bytes or a size like 512mb.");
}
