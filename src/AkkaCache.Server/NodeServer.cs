using System.Net;
using System.Runtime.InteropServices;
using AkkaCache.Cluster.ControlPlane;
using AkkaCache.Server.Configuration;
using AkkaCache.Server.Network;
using Microsoft.Extensions.Configuration;

namespace AkkaCache.Server;

/// <summary>A running node: listeners on raw sockets in front of a <see cref="CacheNode"/>.</summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly CacheNode _node;
    private readonly SessionHost _sessions;
    private readonly List<NodeListener> _listeners;
    private long _inProcessConnections;
    private int _disposed;

    private NodeServer(CacheNode node, SessionHost sessions, List<NodeListener> listeners)
    {
        _node = node;
        _sessions = sessions;
        _listeners = listeners;
        // the same host:port the cluster agent registers the member with (ClusterMember.Endpoint)
        var (host, port) = node.AnnouncedEndPoint;
        AnnouncedEndPoint = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{host}:{port}");
    }

    private Diagnostics.HealthEndpoint? _admin;

    /// <summary>The HTTP admin endpoint's address (GET /health/live, /health/ready); null when AdminPort is 0.</summary>
    public IPEndPoint? AdminEndPoint => _admin?.EndPoint;

    /// <summary>Serves the health endpoint on <paramref name="endPoint"/> (port 0: any free port, see <see cref="AdminEndPoint"/>).</summary>
    internal void StartAdmin(IPEndPoint endPoint) => _admin = new Diagnostics.HealthEndpoint(GetStatus, endPoint);

    /// <summary>The addresses bound (with the real port when the setting was 0).</summary>
    public IReadOnlyList<IPEndPoint> EndPoints => _listeners.Select(l => l.EndPoint).ToList();

    public int Port => _listeners[0].EndPoint.Port;

    /// <summary>The Akka.Remote port in cluster mode (the client port + 10000 unless set), what other nodes list as a seed.</summary>
    public int ClusterPort => _node.ClusterPort;

    internal CacheNode Node => _node;

    /// <summary>The node's loggers (each entry names the node): the executable writes its own messages with them too.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory LoggerFactory => _node.Logging;

    /// <summary>Loads settings the way the executable does: JSON file(s), AKKACACHE__* environment variables, then the switches.</summary>
    public static NodeOptions LoadOptions(string[] args)
    {
        var parsed = CommandLineOptions.Parse(args);
        // the shipped defaults (hocon/akkacache.conf) are the NodeOptions constructor's; these come over them
        var builder = new ConfigurationBuilder();
        if (parsed.ConfigFile is not null)
        {
            var path = Path.GetFullPath(parsed.ConfigFile);
            if (!File.Exists(path)) throw new FileNotFoundException($"Configuration file '{path}' does not exist.", path);
            if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) builder.AddJsonFile(path, optional: false);
            else builder.AddInMemoryCollection(CommandLineOptions.FromHocon(NodeHocon.FileSettings(path), path));
        }
        builder.AddEnvironmentVariables().AddInMemoryCollection(parsed.Settings);
        var options = new NodeOptions();
        // a HOCON file's akka section (and akkacache.lease) go to Akka too, under --akka-config's
        if (parsed.ConfigFile is { } file && !file.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) options.ConfigFile = Path.GetFullPath(file);
        builder.Build().GetSection(NodeOptions.SectionName).Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        options.Validate();
        return options;
    }

    /// <summary>
    /// Starts listening and, in cluster mode, joins the Akka cluster through its seed nodes (it serves keys once it is an Up member with a lease and a map).
    /// Throws <see cref="System.Net.Sockets.SocketException"/> when an address cannot be bound and
    /// <see cref="InvalidOperationException"/> when the cluster cannot be joined; <paramref name="cancellation"/> abandons the join.
    /// </summary>
    public static Task<NodeServer> StartAsync(NodeOptions options, TimeProvider? time = null, CancellationToken cancellation = default) =>
        StartAsync(options, time, loggerFactory: null, cancellation);

    /// <summary>
    /// As <see cref="StartAsync(NodeOptions, TimeProvider?, CancellationToken)"/>, logging through
    /// <paramref name="loggerFactory"/> (an embedding host's; the node does not dispose it), or to the console when null.
    /// </summary>
    public static async Task<NodeServer> StartAsync(NodeOptions options, TimeProvider? time, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory, CancellationToken cancellation = default)
    {
        var node = new CacheNode(options, time ?? TimeProvider.System, loggerFactory);
        var sessions = new SessionHost(node);
        var listeners = new List<NodeListener>();
        try
        {
            int port = options.Port;
            foreach (var address in ParseBind(options.Bind))
            {
                var listener = new NodeListener(sessions, new IPEndPoint(address, port));
                listeners.Add(listener);
                port = listener.EndPoint.Port; // with port 0, every address gets the port the first one got
            }
        }
        catch
        {
            foreach (var listener in listeners) listener.DisposeAsync().AsTask().GetAwaiter().GetResult();
            node.Dispose();
            throw;
        }
        node.Port = listeners[0].EndPoint.Port;
        node.Start();
        var server = new NodeServer(node, sessions, listeners);
        if (options.AdminPort > 0)
        {
            try
            {
                // before joining: liveness is answered (and readiness says why not yet) while the node joins
                server.StartAdmin(new IPEndPoint(listeners[0].EndPoint.Address, options.AdminPort));
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
        if (options.IsClusterEnabled)
        {
            try
            {
                // listening first: peers may connect as soon as the member is registered
                await node.JoinClusterAsync(cancellation);
            }
            catch (Exception e)
            {
                await server.DisposeAsync();
                // a cancelled start interrupts the join, which would otherwise read as a failure to join
                if (cancellation.IsCancellationRequested) throw new OperationCanceledException("The node's start was cancelled.", e, cancellation);
                throw;
            }
        }
        return server;
    }

    /// <summary>
    /// The host:port this node is known by: in cluster mode the endpoint the shard map names it with (its announce
    /// address), standalone the announce address if set, else the first bind address (a wildcard as loopback) and port.
    /// </summary>
    public string AnnouncedEndPoint { get; }

    /// <summary>
    /// Opens a connection to this node that never touches the network, for a client in the same process. The node
    /// serves it like a socket client: AUTH when requirepass is set, CLIENT LIST shows it (<c>addr=inproc:N</c>),
    /// CLIENT KILL and the idle timeout close it, and it ends when the node stops.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The node has stopped.</exception>
    public InProcessConnection ConnectInProcess()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        long number = Interlocked.Increment(ref _inProcessConnections);
        var connection = new InProcessConnection(
            address: string.Create(System.Globalization.CultureInfo.InvariantCulture, $"inproc:{number}"),
            localAddress: "inproc:0");
        if (!_sessions.TryStart(connection.Server)) throw new ObjectDisposedException(nameof(NodeServer), "The node has stopped.");
        return connection;
    }

    /// <summary>A snapshot of what the node is doing, for health checks and dashboards.</summary>
    public NodeStatus GetStatus()
    {
        bool stopped = Volatile.Read(ref _disposed) != 0;
        long keys = _node.Engine.KeyCount;
        int clients = _node.Clients.Count;
        if (_node.Cluster is not { } agent)
            return new NodeStatus(AnnouncedEndPoint, Port, IsClustered: _node.IsClusterMode, stopped, CanServe: !stopped && !_node.IsClusterMode, keys, clients);
        var topology = agent.Topology;
        int led = 0, replicated = 0;
        if (topology is not null)
        {
            for (int shard = 0; shard < topology.ShardCount; shard++)
            {
                switch (topology.RoleOf(shard))
                {
                    case Cluster.Topology.ShardRole.Primary: led++; break;
                    case Cluster.Topology.ShardRole.Replica: replicated++; break;
                }
            }
        }
        return new NodeStatus(AnnouncedEndPoint, Port, IsClustered: true, stopped, CanServe: !stopped && agent.CanServe, keys, clients)
        {
            ClusterName = agent.Settings.ClusterName,
            NodeId = agent.Settings.Self.Id,
            HasTopology = topology is not null,
            LeaseValid = agent.Guard.IsValid,
            LeaseRemaining = agent.Guard.Remaining,
            Epoch = topology?.Epoch ?? 0,
            AllSlotsAssigned = topology?.AllSlotsAssigned ?? false,
            ShardsLed = led,
            ShardsReplicated = replicated,
            IsLeader = agent.IsLeader,
            IsMember = agent.IsUp,
            IsLeaving = _node.LeaveRequested,
        };
    }

    /// <summary>
    /// How long the executable lets a SIGTERM's graceful leave hand shards over before it stops anyway; deployments
    /// give the process longer than this to exit (systemd TimeoutStopSec, Kubernetes terminationGracePeriodSeconds).
    /// </summary>
    public static readonly TimeSpan GracefulLeaveTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Completes when the node has left its cluster after CLUSTER LEAVE (never for a standalone node).</summary>
    public Task Left => _node.Left;

    /// <summary>
    /// Graceful leave (SIGTERM in cluster mode): hands the node's shards to the others, then completes. Cancelling cuts
    /// the hand-off short; the node still resigns its membership, so the shards left fail over at once.
    /// </summary>
    public Task LeaveClusterAsync(TimeSpan timeout, CancellationToken cancellation = default) => _node.RequestLeave(timeout, cancellation);

    public bool IsClustered => _node.IsClusterMode;

    /// <summary>Completes with the reason when the cluster refused this node (a different shard count).</summary>
    public Task<string> Refused => _node.Refused;

    private static IEnumerable<IPAddress> ParseBind(string bind)
    {
        foreach (var part in bind.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            yield return part switch
            {
                "*" => IPAddress.Any,
                "localhost" => IPAddress.Loopback,
                _ => IPAddress.Parse(part),
            };
        }
    }

    /// <summary>Completes on SIGINT or SIGTERM, with the signal received.</summary>
    public static async Task<PosixSignal> WaitForShutdownSignalAsync()
    {
        var stop = new TaskCompletionSource<PosixSignal>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult(context.Signal);
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return await stop.Task;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_admin is { } admin) await admin.DisposeAsync();
        await _node.StopClusterAsync();
        foreach (var listener in _listeners) await listener.DisposeAsync();
        await _sessions.StopAsync();
        _node.Dispose();
    }
}
