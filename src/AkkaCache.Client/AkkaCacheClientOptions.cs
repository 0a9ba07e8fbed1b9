using System.Globalization;
using AkkaCache.Client.Transport;

namespace AkkaCache.Client;

/// <summary>
/// Client settings. Bind them from configuration section <see cref="SectionName"/>, or parse a configuration string:
/// <c>"127.0.0.1:7000,127.0.0.1:7001,password=secret,timeout=2000"</c>.
/// </summary>
public sealed class AkkaCacheClientOptions
{
    public const string SectionName = "AkkaCache:Client";

    /// <summary>Seed nodes, comma-separated host:port. Any one of them answering is enough: the rest of the cluster is learned from it.</summary>
    public string EndPoints { get; set; } = "127.0.0.1:6379";

    /// <summary>ACL user for AUTH (with <see cref="Password"/>); empty for requirepass.</summary>
    public string? User { get; set; }

    public string? Password { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a call may take, redirects and retries included, unless the call gives its own (<see cref="AkkaCacheClient.WithTimeout"/>).</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Multiplexed connections per node; calls are spread over them round-robin. One is plenty for most loads.</summary>
    public int ConnectionsPerNode { get; set; } = 1;

    /// <summary>
    /// Send reads (GET, MGET, TTL...) to the slot's replicas as well as its primary (they may lag slightly behind): the
    /// replicas CLUSTER SLOTS lists. On an AkkaCache cluster whose nodes each lead shards, start the nodes with
    /// <c>--cluster-advertise-replicas yes</c> so that it lists them.
    /// </summary>
    public bool ReadFromReplicas { get; set; }

    /// <summary>
    /// How often the client reads which keys the cluster promoted as hot (AC.HOTCOPIES); their reads are then spread
    /// over every node, each of which holds a copy. Zero turns it off (reads go to each key's owner).
    /// </summary>
    public TimeSpan HotKeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the slot map is read again besides when a redirect says it changed.</summary>
    public TimeSpan TopologyRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first wait before connecting again to a node whose connection failed twice in a row; doubles up to <see cref="ReconnectBackoffMax"/>.</summary>
    public TimeSpan ReconnectBackoffBase { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan ReconnectBackoffMax { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The first wait before retrying a call after -TRYAGAIN, -CLUSTERDOWN or a lost connection; doubles up to 1 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Most -MOVED/-ASK redirects one call follows before it fails.</summary>
    public int MaxRedirects { get; set; } = 16;

    /// <summary>
    /// Entries of the near cache (0, the default, turns it off). When on, connections speak RESP3 with CLIENT TRACKING
    /// ON, GET results are kept in this process (least recently used go first) and served from it until the node
    /// sends an invalidation, this client writes the key, or a connection is lost.
    /// </summary>
    public int NearCacheMaxEntries { get; set; }

    /// <summary>A node embedded in this process (AkkaCache.Hosting sets it): connections to it stay in process.</summary>
    public IInProcessNode? InProcessNode { get; set; }

    internal IReadOnlyList<string> SeedEndPoints =>
        EndPoints.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Checks every setting; throws <see cref="ArgumentException"/> naming the one that is wrong.</summary>
    public void Validate()
    {
        if (SeedEndPoints.Count == 0) throw new ArgumentException("EndPoints names no node: give at least one host:port.", nameof(EndPoints));
        foreach (var endPoint in SeedEndPoints)
        {
            try
            {
                HostPort.Split(endPoint);
            }
            catch (FormatException error)
            {
                throw new ArgumentException($"EndPoints: {error.Message}", nameof(EndPoints), error);
            }
        }
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        Positive(OperationTimeout, nameof(OperationTimeout));
        Positive(TopologyRefreshInterval, nameof(TopologyRefreshInterval));
        if (HotKeyRefreshInterval < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(HotKeyRefreshInterval), HotKeyRefreshInterval, "expected zero (off) or a positive interval");
        Positive(ReconnectBackoffBase, nameof(ReconnectBackoffBase));
        Positive(ReconnectBackoffMax, nameof(ReconnectBackoffMax));
        Positive(RetryDelay, nameof(RetryDelay));
        if (ConnectionsPerNode is < 1 or > 64) throw new ArgumentException("ConnectionsPerNode must be 1..64.", nameof(ConnectionsPerNode));
        if (NearCacheMaxEntries < 0) throw new ArgumentException("NearCacheMaxEntries must be 0 (off) or positive.", nameof(NearCacheMaxEntries));
        if (MaxRedirects < 1) throw new ArgumentException("MaxRedirects must be at least 1.", nameof(MaxRedirects));
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero) throw new ArgumentException($"{name} must be positive (it is {value}).", name);
    }

    /// <summary>
    /// Parses "host:port[,host:port...][,key=value...]" with keys password, user, connectTimeout and timeout (ms),
    /// connectionsPerNode, readFromReplicas, nearCacheMaxEntries, hotKeyRefreshInterval (ms, 0 = off).
    /// </summary>
    public static AkkaCacheClientOptions Parse(string configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new AkkaCacheClientOptions();
        var endPoints = new List<string>();
        foreach (var part in configuration.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = part.IndexOf('=');
            if (equals < 0)
            {
                endPoints.Add(part);
                continue;
            }
            var key = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            switch (key.ToLowerInvariant())
            {
                case "password": options.Password = value; break;
                case "user": options.User = value; break;
                case "connecttimeout": options.ConnectTimeout = Milliseconds(key, value); break;
                case "timeout": options.OperationTimeout = Milliseconds(key, value); break;
                case "connectionspernode": options.ConnectionsPerNode = Integer(key, value); break;
                case "readfromreplicas": options.ReadFromReplicas = Boolean(key, value); break;
                case "nearcachemaxentries": options.NearCacheMaxEntries = Integer(key, value); break;
                case "hotkeyrefreshinterval": options.HotKeyRefreshInterval = Milliseconds(key, value); break;
                default: throw new ArgumentException($"Unknown client setting '{key}' in the configuration string.", nameof(configuration));
            }
        }
        if (endPoints.Count == 0) throw new ArgumentException("The configuration string names no node: EndPoints needs at least one host:port.", nameof(configuration));
        options.EndPoints = string.Join(",", endPoints);
        options.Validate();
        return options;
    }

    private static TimeSpan Milliseconds(string key, string value) => TimeSpan.FromMilliseconds(Integer(key, value));

    private static int Integer(string key, string value) => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number)
        ? number
        : throw new ArgumentException($"Client setting '{key}' must be a non-negative integer, not '{value}'.");

    private static bool Boolean(string key, string value) => bool.TryParse(value, out bool flag)
        ? flag
        : throw new ArgumentException($"Client setting '{key}' must be true or false, not '{value}'.");

    internal AkkaCacheClientOptions Clone() => (AkkaCacheClientOptions)MemberwiseClone();
}
