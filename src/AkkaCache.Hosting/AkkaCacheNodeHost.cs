using System.Net.Sockets;
using AkkaCache.Client.Transport;
using AkkaCache.Server;
using AkkaCache.Server.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AkkaCache.Hosting;

/// <summary>Where the embedded node is in its life.</summary>
public enum AkkaCacheNodeState
{
    NotStarted,
    Starting,
    Running,
    Stopping,
    Stopped,
    Failed,
}

/// <summary>
/// The node embedded in this application (registered by <c>AddAkkaCacheNode</c>): started and stopped with the host,
/// reachable over its TCP port by anyone and in process by this application's own client (<see cref="IInProcessNode"/>).
/// </summary>
public sealed partial class AkkaCacheNodeHost : IInProcessNode, IAsyncDisposable, IDisposable
{
    private readonly IOptions<NodeOptions> _options;
    private readonly AkkaCacheNodeHostingOptions _hosting;
    private readonly ILogger<AkkaCacheNodeHost> _logger;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly TaskCompletionSource<NodeServer> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private NodeServer? _server;
    private volatile AkkaCacheNodeState _state;

    public AkkaCacheNodeHost(
        IOptions<NodeOptions> options,
        IOptions<AkkaCacheNodeHostingOptions> hosting,
        ILogger<AkkaCacheNodeHost> logger,
        IHostApplicationLifetime? lifetime = null,
        ILoggerFactory? loggerFactory = null)
    {
        // the node logs through the host's logging (its entries scoped with the node id); without one, to the console
        _loggerFactory = loggerFactory;
        _options = options;
        _hosting = hosting.Value;
        _logger = logger;
        _lifetime = lifetime;
    }

    public AkkaCacheNodeState State => _state;

    /// <summary>The running node; null before it has started and once it is stopping.</summary>
    public NodeServer? Server => _state == AkkaCacheNodeState.Running ? _server : null;

    /// <summary>The host:port the node is known by (<see cref="NodeServer.AnnouncedEndPoint"/>) while it runs, else null.</summary>
    public string? EndPoint => Server?.AnnouncedEndPoint;

    /// <summary>
    /// Completes with the node once it listens and, in cluster mode, has joined; faults with the reason it could not
    /// start; is cancelled when the host stops before starting it.
    /// </summary>
    public Task<NodeServer> Started => _started.Task;

    /// <summary>What the node is doing now, while it runs or stops (a cluster member leaving); else null.</summary>
    public NodeStatus? GetStatus() => _state is AkkaCacheNodeState.Running or AkkaCacheNodeState.Stopping ? _server?.GetStatus() : null;

    /// <summary>Opens an in-process connection to the node (the client calls this for connections to <see cref="EndPoint"/>).</summary>
    /// <exception cref="InvalidOperationException">The node is not running.</exception>
    public ValueTask<INodeTransport> ConnectAsync(CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var server = Server ?? throw NotRunning(null);
        try
        {
            return ValueTask.FromResult<INodeTransport>(new InProcessNodeTransport(server.ConnectInProcess()));
        }
        catch (ObjectDisposedException e)
        {
            throw NotRunning(e); // stopped between the check and the connect
        }
    }

    private InvalidOperationException NotRunning(Exception? inner) =>
        new($"The embedded AkkaCache node is not running (it is {_state.ToString().ToLowerInvariant()}).", inner);

    /// <summary>
    /// Starts the node: reads and validates the settings, listens, joins the cluster in cluster mode. Any failure is
    /// thrown as an <see cref="InvalidOperationException"/> saying what went wrong, so the host fails to start.
    /// </summary>
    internal async Task StartAsync(CancellationToken cancellation)
    {
        lock (_gate)
        {
            if (_state != AkkaCacheNodeState.NotStarted) throw new InvalidOperationException($"The embedded AkkaCache node cannot start: it is {_state.ToString().ToLowerInvariant()}.");
            _state = AkkaCacheNodeState.Starting;
        }
        NodeOptions options;
        try
        {
            options = _options.Value;
            options.Validate();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or OptionsValidationException)
        {
            throw Failed(new InvalidOperationException($"Invalid AkkaCache node configuration: {e.Message}", e));
        }

        if (options.IsClusterEnabled) LogStartingClustered(options.Bind, options.Port, options.ClusterName, options.SeedNodes);
        else LogStarting(options.Bind, options.Port);
        NodeServer server;
        try
        {
            server = await NodeServer.StartAsync(options, time: null, _loggerFactory, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            lock (_gate) _state = AkkaCacheNodeState.Stopped;
            _started.TrySetCanceled(cancellation);
            throw;
        }
        catch (SocketException e)
        {
            throw Failed(new InvalidOperationException($"The AkkaCache node cannot listen on {options.Bind} port {options.Port}: {e.Message}", e));
        }
        catch (Exception e) when (options.IsClusterEnabled && e is InvalidOperationException)
        {
            throw Failed(new InvalidOperationException($"The AkkaCache node could not join cluster '{options.ClusterName}': {e.Message}", e));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw Failed(new InvalidOperationException($"The AkkaCache node failed to start: {e.Message}", e));
        }

        lock (_gate)
        {
            _server = server;
            _state = AkkaCacheNodeState.Running;
        }
        _started.TrySetResult(server);
        LogStarted(string.Join(", ", server.EndPoints), server.AnnouncedEndPoint);
        if (server.IsClustered)
        {
            var status = server.GetStatus();
            LogJoined(status.ClusterName, status.NodeId, status.Epoch, status.ShardsLed, status.ShardsReplicated);
            _ = server.Left.ContinueWith(_ => OnLeftOnItsOwn(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private InvalidOperationException Failed(InvalidOperationException error)
    {
        lock (_gate) _state = AkkaCacheNodeState.Failed;
        LogFailed(error, error.Message);
        _started.TrySetException(error);
        return error;
    }

    /// <summary>CLUSTER LEAVE from an operator: the node is out of the cluster, as the executable it ends its application.</summary>
    private void OnLeftOnItsOwn()
    {
        if (_state != AkkaCacheNodeState.Running) return; // our own leave, on the way out
        bool stop = _hosting.StopApplicationOnClusterLeave && _lifetime is not null;
        LogLeftOnItsOwn(stop);
        if (stop) _lifetime!.StopApplication();
    }

    /// <summary>
    /// Stops the node: in cluster mode it first hands its shards to the others (bounded by <see cref="AkkaCacheNodeHostingOptions.LeaveTimeout"/>
    /// and by <paramref name="cancellation"/>, the host's shutdown timeout), then it closes every connection.
    /// </summary>
    internal async Task StopAsync(CancellationToken cancellation)
    {
        NodeServer server;
        lock (_gate)
        {
            if (_state != AkkaCacheNodeState.Running)
            {
                if (_state == AkkaCacheNodeState.NotStarted) _state = AkkaCacheNodeState.Stopped;
                _started.TrySetCanceled(CancellationToken.None);
                return;
            }
            // from here the in-process client no longer finds the node, while its clients still get answers during the hand-off
            _state = AkkaCacheNodeState.Stopping;
            server = _server!;
        }
        try
        {
            if (server.IsClustered) await LeaveAsync(server, cancellation);
        }
        finally
        {
            await server.DisposeAsync();
            lock (_gate)
            {
                _state = AkkaCacheNodeState.Stopped;
                _server = null;
            }
            LogStopped();
        }
    }

    private async Task LeaveAsync(NodeServer server, CancellationToken cancellation)
    {
        var status = server.GetStatus();
        LogLeaving(status.ClusterName, status.ShardsLed, status.ShardsReplicated);
        var leave = server.LeaveClusterAsync(_hosting.LeaveTimeout, cancellation);
        try
        {
            await leave.WaitAsync(cancellation);
            LogLeft(status.ClusterName);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            LogLeaveCutShort(server.GetStatus().ShardsLed);
            // cancelled, the node stops handing off but still leaves the Akka cluster gracefully, so the shards it leads
            // fail over now rather than after the failure detector notices; disposing it first could abort that leave
            try
            {
                await leave.WaitAsync(ResignGrace, CancellationToken.None);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>Longest the node waits for its Akka leave (Leaving, Exiting, Removed) once the host's shutdown timeout has passed.</summary>
    private static readonly TimeSpan ResignGrace = TimeSpan.FromSeconds(5);

    /// <summary>Disposing the service provider without stopping the host: the node stops at once, without a hand-off.</summary>
    public async ValueTask DisposeAsync()
    {
        NodeServer? server;
        lock (_gate)
        {
            server = _state == AkkaCacheNodeState.Running ? _server : null;
            if (server is null)
            {
                if (_state == AkkaCacheNodeState.NotStarted) _state = AkkaCacheNodeState.Stopped;
                _started.TrySetCanceled(CancellationToken.None); // whoever awaits the start learns it never comes
                return;
            }
            _state = AkkaCacheNodeState.Stopping;
        }
        await server.DisposeAsync();
        lock (_gate)
        {
            _state = AkkaCacheNodeState.Stopped;
            _server = null;
        }
        LogStopped();
    }

    /// <summary>
    /// For a service provider disposed synchronously (<c>using var host = builder.Build()</c>), which refuses a
    /// singleton that is only <see cref="IAsyncDisposable"/>.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    [LoggerMessage(1, LogLevel.Information, "Starting AkkaCache node on {Bind} port {Port}")]
    private partial void LogStarting(string bind, int port);

    [LoggerMessage(2, LogLevel.Information, "Starting AkkaCache node on {Bind} port {Port}, joining cluster {ClusterName} through seed nodes {SeedNodes}")]
    private partial void LogStartingClustered(string bind, int port, string clusterName, string seedNodes);

    [LoggerMessage(3, LogLevel.Information, "AkkaCache node started, accepting connections on {ListenEndPoints}, known as {EndPoint}")]
    private partial void LogStarted(string listenEndPoints, string endPoint);

    [LoggerMessage(4, LogLevel.Information, "AkkaCache node joined cluster {ClusterName} as {NodeId} (map epoch {Epoch}: {ShardsLed} shards led, {ShardsReplicated} replicated)")]
    private partial void LogJoined(string? clusterName, string? nodeId, long epoch, int shardsLed, int shardsReplicated);

    [LoggerMessage(5, LogLevel.Error, "AkkaCache node failed to start: {Reason}")]
    private partial void LogFailed(Exception error, string reason);

    [LoggerMessage(6, LogLevel.Information, "AkkaCache node leaving cluster {ClusterName}: handing off {ShardsLed} shards led and {ShardsReplicated} replicas")]
    private partial void LogLeaving(string? clusterName, int shardsLed, int shardsReplicated);

    [LoggerMessage(7, LogLevel.Information, "AkkaCache node left cluster {ClusterName}")]
    private partial void LogLeft(string? clusterName);

    [LoggerMessage(8, LogLevel.Warning, "AkkaCache node stopping before its hand-off finished (host shutdown timeout): the {ShardsLed} shards it still led fail over to their replicas")]
    private partial void LogLeaveCutShort(int shardsLed);

    [LoggerMessage(9, LogLevel.Warning, "AkkaCache node left its cluster (CLUSTER LEAVE); stopping the application: {StoppingApplication}")]
    private partial void LogLeftOnItsOwn(bool stoppingApplication);

    [LoggerMessage(10, LogLevel.Information, "AkkaCache node stopped")]
    private partial void LogStopped();
}
