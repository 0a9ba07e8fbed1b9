using System.Net;
using AkkaCache.Server.Configuration;
using AkkaCache.Server.Network;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Server;

/// <summary>A running node: Kestrel listening with RESP connection handlers in front of a <see cref="CacheNode"/>.</summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CacheNode _node;

    private NodeServer(WebApplication app, CacheNode node, IReadOnlyList<IPEndPoint> endPoints)
    {
        _app = app;
        _node = node;
        EndPoints = endPoints;
    }

    /// <summary>The addresses bound (with the real port when the setting was 0).</summary>
    public IReadOnlyList<IPEndPoint> EndPoints { get; }

    public int Port => EndPoints[0].Port;

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

    public static async Task<NodeServer> StartAsync(NodeOptions options, TimeProvider? time = null, LogLevel logLevel = LogLevel.Warning, CancellationToken cancellation = default)
    {
        var node = new CacheNode(options, time ?? TimeProvider.System);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(logLevel);
        builder.Services.AddSingleton(node);
        var listeners = new List<ListenOptions>();
        builder.WebHost.UseSockets(sockets =>
        {
            // run the receive continuation (parse, execute, reply) on the socket's I/O thread instead of hopping to the
            // thread pool: a session never blocks, and bench/README.md has the measurement
            sockets.UnsafePreferInlineScheduling = options.InlineIoScheduling;
            // the transport would stop reading at 1 MB buffered, short of one maximal request (a 1 MB value plus framing);
            // the node applies its own client-query-buffer-limit instead
            sockets.MaxReadBufferSize = null;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var address in ParseBind(options.Bind))
            {
                kestrel.Listen(address, options.Port, listen =>
                {
                    listen.UseConnectionHandler<RespConnectionHandler>();
                    listeners.Add(listen);
                });
            }
        });
        var app = builder.Build();
        await app.StartAsync(cancellation);
        var endPoints = listeners.Select(l => l.IPEndPoint!).ToList();
        node.Port = endPoints[0].Port;
        node.Start();
        return new NodeServer(app, node, endPoints);
    }

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

    public Task WaitForShutdownAsync(CancellationToken cancellation = default) => _app.WaitForShutdownAsync(cancellation);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _node.Dispose();
    }
}
