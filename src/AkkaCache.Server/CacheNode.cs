using AkkaCache.Cluster.ControlPlane;
using AkkaCache.Cluster.HotKeys;
using AkkaCache.Cluster.Replication;
using AkkaCache.Cluster.Sharding;
using AkkaCache.Core;
using AkkaCache.Core.Storage;
using AkkaCache.Protocol;
using AkkaCache.Server.Commands;
using AkkaCache.Server.Configuration;
using AkkaCache.Server.Diagnostics;
using AkkaCache.Server.Network;
using AkkaCache.Server.PubSub;

namespace AkkaCache.Server;

/// <summary>A node: the engine, its settings as CONFIG sees them, its clients, and in cluster mode its control plane agent and replication.</summary>
internal sealed class CacheNode : IDisposable
{
    public CacheNode(NodeOptions options, TimeProvider time, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        options.Validate();
        Options = options;
        Time = time;
        Logging = new NodeLoggerFactory(loggerFactory ?? NodeLoggerFactory.CreateConsole(), ownsInner: loggerFactory is null);
        Engine = new CacheEngine(new CacheEngineOptions
        {
            ShardCount = options.Shards,
            MaxMemory = options.MaxMemoryBytes,
            MaxMemoryPolicy = options.MaxMemoryPolicyKind,
            Hz = options.Hz,
            LeaseStaleMs = options.LeaseStale,
            HotKeyDetection = options.HotKeyDetection,
            HotKeyWindowMs = options.HotKeyWindow,
            HotKeyShare = options.HotKeyShare,
            HotKeyMinRate = options.HotKeyMinRate,
        }, time);
        Keyspace = new KeyspaceNotifier(PubSub, () => NowMs);
        Tracking = new ClientTracking(Clients, PubSub, () => NowMs);
        _removals = new RemovalFanout(this);
        ApplyKeyspaceEvents(KeyspaceNotifier.Parse(options.NotifyKeyspaceEvents) ?? KeyspaceEvents.None);
        SlowLog = new SlowLog { ThresholdMicroseconds = options.SlowlogLogSlowerThan, MaxLength = options.SlowlogMaxLen };
        Metrics = new ServerMetrics(this);
        Config = new ConfigStore(this);
        PubSub.Limit = OutputBufferLimit.Parse(Config.Get("client-output-buffer-limit"), "pubsub");
        RequestLimits = new RespRequestLimits((int)options.ProtoMaxBulkLenBytes, options.MaxArguments, 64 * 1024);
        InlineWhenIdle = options.InlineWhenIdle;
        StartedMs = NowMs;
        RunId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
    }

    public NodeOptions Options { get; }
    public TimeProvider Time { get; }
    public CacheEngine Engine { get; }
    public ConfigStore Config { get; }
    public ClientRegistry Clients { get; } = new();
    public PubSubRegistry PubSub { get; } = new();
    public KeyspaceNotifier Keyspace { get; }
    public ClientTracking Tracking { get; }
    public SlowLog SlowLog { get; }

    /// <summary>The node's loggers: every entry names the node (<see cref="NodeLoggerFactory.NodeId"/>).</summary>
    public NodeLoggerFactory Logging { get; }
    public ServerMetrics Metrics { get; }
    public bool InlineWhenIdle { get; }
    public long StartedMs { get; }
    public string RunId { get; }

    /// <summary>notify-keyspace-events: the engine tells the notifier of removals only while expired or evicted events are on.</summary>
    public void ApplyKeyspaceEvents(KeyspaceEvents flags)
    {
        Keyspace.Flags = flags;
        ApplyRemovalListener();
    }

    private readonly RemovalFanout _removals;

    /// <summary>
    /// The engine has one removal hook: it is set only while keyspace notifications of expired / evicted are on or a
    /// connection tracks keys, so a node with neither pays one null check per removal.
    /// </summary>
    public void ApplyRemovalListener()
    {
        bool keyspace = Keyspace.IsOn(KeyspaceEvents.Expired) || Keyspace.IsOn(KeyspaceEvents.Evicted);
        Engine.RemovalListener = keyspace || Tracking.IsOn ? _removals : null;
    }

    private sealed class RemovalFanout(CacheNode node) : IRemovalListener
    {
        public void OnRemoved(ReadOnlySpan<byte> key, RemovalCause cause)
        {
            // A replica's copy expires at the primary's absolute time too: only the primary announces it, or a
            // subscriber of every node would hear one expiry twice. Evictions are each node's own and stay announced.
            if (cause != RemovalCause.Expired || node.Leads(node.Engine.Layout.ShardOfKey(key)))
                ((IRemovalListener)node.Keyspace).OnRemoved(key, cause);
            ((IRemovalListener)node.Tracking).OnRemoved(key, cause);
        }
    }

    /// <summary>The port actually listened on (differs from the setting when that is 0).</summary>
    public int Port { get; set; }

    public RespRequestLimits RequestLimits { get; set; }

    /// <summary>Started with --cluster-enabled yes: until <see cref="Cluster"/> exists, keyed commands get -CLUSTERDOWN.</summary>
    public bool IsClusterMode => Options.IsClusterEnabled;

    /// <summary>
    /// Whether this node leads <paramref name="shard"/>: its keys are this node's own (KEYS, SCAN, DBSIZE, FLUSHALL,
    /// INFO's db0, expiry events). Standalone, every shard; in a cluster, only those the current map makes it primary of.
    /// </summary>
    public bool Leads(int shard)
    {
        var agent = Cluster;
        return agent is null ? !IsClusterMode : agent.Topology?.RoleOf(shard) == AkkaCache.Cluster.Topology.ShardRole.Primary;
    }

    /// <summary>The control plane agent; null for a standalone node and for a cluster node that has not started joining.</summary>
    public ClusterAgent? Cluster { get; private set; }

    public ReplicationHub? Replication { get; private set; }

    /// <summary>Copies this node's hot keys to the other members and holds theirs; null when standalone or turned off.</summary>
    public HotKeyReplicator? HotKeys { get; private set; }

    /// <summary>Forwards this node's PUBLISHes to the other members; null for a standalone node.</summary>
    public PubSubForwarder? PubSubForwarder { get; private set; }

    private readonly TaskCompletionSource _left = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _leaveRequested;

    /// <summary>Completes when the node has left the cluster (CLUSTER LEAVE) and should stop.</summary>
    public Task Left => _left.Task;

    /// <summary>The map's shard count differs from this node's: the message names both; the executable exits with status 2.</summary>
    public Task<string> Refused => _refused.Task;

    private readonly TaskCompletionSource<string> _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The HOCON over the shipped Akka defaults: the --config file's, then --akka-config's (later keys win).</summary>
    private async Task<string?> AkkaHoconAsync(CancellationToken cancellation)
    {
        var parts = new List<string>();
        foreach (var file in new[] { Options.ConfigFile, Options.AkkaConfig })
            if (file is not null) parts.Add(await File.ReadAllTextAsync(file, cancellation));
        return parts.Count == 0 ? null : string.Join("\n", parts);
    }

    /// <summary>
    /// Starts the node's Akka cluster member: it asks the seeds to let it in and serves no key before it is an Up
    /// member holding a quorum lease and a map. Throws <see cref="InvalidOperationException"/> when the cluster port
    /// cannot be listened on.
    /// </summary>
    public async Task JoinClusterAsync(CancellationToken cancellation = default)
    {
        var (host, port) = AnnouncedEndPoint;
        // an empty zone (a Kubernetes node without the topology label) is no zone
        var self = new ClusterMember(Options.NodeId ?? $"{host}:{port}", host, port, string.IsNullOrWhiteSpace(Options.Zone) ? null : Options.Zone);
        var settings = new ClusterSettings
        {
            ClusterName = Options.ClusterName,
            Self = self,
            ClusterPort = ClusterPort,
            SeedNodes = Options.SeedNodeList,
            Strategy = Options.DowningStrategy,
            QuorumSize = Options.StaticQuorumSize,
            AkkaConfig = await AkkaHoconAsync(cancellation),
            ReplicaCount = Options.Replicas,
            ShardCount = Options.Shards,
            MaxShardsInFlight = Options.ClusterMaxShardsInFlight,
            AdvertiseAllReplicas = Options.IsClusterAdvertiseReplicas,
            Password = Options.RequirePass is "" ? null : Options.RequirePass,
        };
        Replication = new ReplicationHub(Engine, self.Id, Options.RequirePass is "" ? null : Options.RequirePass)
        {
            LoggerFactory = Logging,
            SnapshotBytesPerSecond = Options.ClusterSnapshotRateBytes,
        };
        ClusterAgent agent;
        try
        {
            agent = new ClusterAgent(settings, Replication, Time);
        }
        catch (Akka.Configuration.ConfigurationException e)
        {
            await Replication.DisposeAsync();
            Replication = null;
            throw new InvalidOperationException($"Invalid {NodeOptions.SectionName}:AkkaConfig '{Options.AkkaConfig}': {e.Message}", e);
        }
        agent.Refused += message => _refused.TrySetResult(message);
        try
        {
            await agent.StartAsync(cancellation);
        }
        catch
        {
            await agent.DisposeAsync();
            await Replication.DisposeAsync();
            Replication = null;
            throw;
        }
        Cluster = agent;
        var forwarder = new PubSubForwarder(self.Id, Options.RequirePass is "" ? null : Options.RequirePass, () => agent.Topology,
            Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<PubSubForwarder>(Logging));
        agent.TopologyChanged += _ => forwarder.Refresh();
        forwarder.Refresh();
        PubSubForwarder = forwarder;
        if (Options.HotKeyReplication && Options.HotKeyDetection)
        {
            var hotKeys = new HotKeyReplicator(new HotKeyReplicationSettings
            {
                SelfId = self.Id,
                Password = settings.Password,
                // a holder's copies must lapse before anyone could take over from an owner that stopped answering
                Lease = agent.Lease * 0.6,
                MaxValueBytes = (int)Options.HotKeyMaxValueBytes,
                Interval = TimeSpan.FromMilliseconds(Math.Max(Options.HotKeyWindow / 2, 50)),
                MinPromoted = TimeSpan.FromMilliseconds(Math.Max(2L * Options.HotKeyWindow, 1000)),
            }, Engine, Replication, Time, () => agent.Guard.IsValid);
            agent.TopologyChanged += _ => hotKeys.Refresh(agent.Topology);
            hotKeys.Refresh(agent.Topology);
            HotKeys = hotKeys;
        }
    }

    /// <summary>
    /// The host:port clients and peers know this node by: <see cref="NodeOptions.Announce"/>, else the first bind address
    /// (a wildcard as loopback) and the port listened on. In cluster mode the shard map names the node by it.
    /// </summary>
    public (string Host, int Port) AnnouncedEndPoint
    {
        get
        {
            if (Options.Announce is { } announce) return NodeOptions.ParseAnnounce(announce);
            string bind = Options.Bind.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return (bind switch { "*" or "0.0.0.0" => "127.0.0.1", "::" => "::1", _ => bind }, Port);
        }
    }

    /// <summary>The Akka.Remote port: <see cref="NodeOptions.ClusterPort"/>, else the client port + 10000.</summary>
    /// <remarks>A client port above 55535 (an ephemeral one, with --port 0) has no +10000: the node takes a free port then.</remarks>
    public int ClusterPort => _clusterPort ??= Options.ClusterPort > 0 ? Options.ClusterPort : Port + 10000 <= 65535 ? Port + 10000 : FreePort();

    private int? _clusterPort;

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Any, 0));
        return ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>A graceful leave has been asked for (CLUSTER LEAVE, SIGTERM, the host stopping).</summary>
    public bool LeaveRequested => Volatile.Read(ref _leaveRequested) != 0;

    /// <summary>
    /// CLUSTER LEAVE or SIGTERM: hands every shard to the other nodes, then completes <see cref="Left"/>. Cancelling
    /// cuts the hand-off short: the node still resigns, so the others fail over at once instead of at lease expiry.
    /// </summary>
    public Task RequestLeave(TimeSpan? timeout = null, CancellationToken cancellation = default)
    {
        if (Cluster is not { } agent) return Task.CompletedTask;
        if (Interlocked.Exchange(ref _leaveRequested, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try { await agent.LeaveAsync(timeout ?? TimeSpan.FromMinutes(2), cancellation); }
                catch (Exception) { /* the actor system is gone already: the others fail this node over */ }
                _left.TrySetResult();
            });
        }
        return Left;
    }

    public long NowMs => Engine.NowMs;

    private ITimer? _idleClients;

    public void Start()
    {
        Engine.Start();
        var (host, port) = AnnouncedEndPoint;
        Logging.NodeId = Options.NodeId ?? $"{host}:{port}";
        Metrics.StartExport(Logging.NodeId);
        _idleClients = Time.CreateTimer(static state =>
        {
            var node = (CacheNode)state!;
            node.Clients.CloseIdle(node.NowMs, node.Options.Timeout);
        }, this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public async ValueTask StopClusterAsync()
    {
        if (Cluster is { } agent) await agent.DisposeAsync();
        if (PubSubForwarder is { } forwarder) await forwarder.DisposeAsync();
        if (HotKeys is { } hotKeys) await hotKeys.DisposeAsync();
        if (Replication is { } hub) await hub.DisposeAsync();
    }

    public void Dispose()
    {
        _idleClients?.Dispose();
        Metrics.Dispose();
        Engine.Dispose();
        Logging.Dispose();
    }
}
