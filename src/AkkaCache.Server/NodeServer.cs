using System.Net;
using System.Runtime.InteropServices;
using AkkaCache.Server.Configuration;
using AkkaCache.Server.Network;
using Microsoft.Extensions.Configuration;

namespace AkkaCache.Server;

/// <summary>A running node: listeners on raw sockets in front of a <see cref="CacheNode"/>.</summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly CacheNode _node;
    private readonly List<NodeListener> _listeners;

    private NodeServer(CacheNode node, List<NodeListener> listeners)
    {
        _node = node;
        _listeners = listeners;
    }

    /// <summary>The addresses bound (with the real port when the setting was 0).</summary>
    public IReadOnlyList<IPEndPoint> EndPoints => _listeners.Select(l => l.EndPoint).ToList();

    public int Port => _listeners[0].EndPoint.Port;

    internal CacheNode Node => _node;

    /// <summary>Loads settings the way the executable does: JSON file(s), AKKACACHE__* environment variables, then the switches.</summary>
    public static NodeOptions LoadOptions(string[] args)
    {
        var parsed = CommandLineOptions.Parse(args);
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "config", "akkacache.json"), optional: true)
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "config", "akkacache.json"), optional: true);
        if (parsed.ConfigFile is not null)
        {
            var path = Path.GetFullPath(parsed.ConfigFile);
            if (!File.Exists(path)) throw new FileNotFoundException($"Configuration file '{path}' does not exist.", path);
            builder.AddJsonFile(path, optional: false);
        }
        builder.AddEnvironmentVariables().AddInMemoryCollection(parsed.Settings);
        var options = new NodeOptions();
        builder.Build().GetSection(NodeOptions.SectionName).Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        options.Validate();
        return options;
    }

    public static async Task<NodeServer> StartAsync(NodeOptions options, TimeProvider? time = null)
    {
        var node = new CacheNode(options, time ?? TimeProvider.System);
        var listeners = new List<NodeListener>();
        try
        {
            int port = options.Port;
            foreach (var address in ParseBind(options.Bind))
            {
                var listener = new NodeListener(node, new IPEndPoint(address, port));
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
        var server = new NodeServer(node, listeners);
        if (options.IsClusterEnabled)
        {
            try
            {
                // listening first: peers may connect as soon as the member is registered
                await node.JoinClusterAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
        return server;
    }

    /// <summary>Completes when the node has left its cluster after CLUSTER LEAVE (never for a standalone node).</summary>
    public Task Left => _node.Left;

    /// <summary>Graceful leave (SIGTERM in cluster mode): hands the node's shards to the others, then completes.</summary>
    public Task LeaveClusterAsync(TimeSpan timeout) => _node.RequestLeave(timeout);

    public bool IsClustered => _node.Cluster is not null;

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
        await _node.StopClusterAsync();
        foreach (var listener in _listeners) await listener.DisposeAsync();
        _node.Dispose();
    }
}
