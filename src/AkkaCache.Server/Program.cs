using AkkaCache.Server;
using Microsoft.Extensions.Logging;

NodeServer server;
try
{
    var options = NodeServer.LoadOptions(args);
    // read by the socket engine when it starts, so before the first socket: saves a thread-pool hop per request
    // (measured in bench/README.md); a session never blocks, so running it on the engine's thread is safe
    if (options.InlineSocketCompletions)
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
    server = await NodeServer.StartAsync(options);
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or FileNotFoundException or IOException
                              or System.Net.Sockets.SocketException)
{
    // before there is a node to log with: the reason goes to stderr as it is, with exit status 2
    Console.Error.WriteLine($"akkacache-server: {e.Message}");
    return 2;
}

var log = server.LoggerFactory.CreateLogger("AkkaCache.Server");
log.LogInformation("AkkaCache node ready, accepting connections on {EndPoints}", string.Join(", ", server.EndPoints));
if (server.AdminEndPoint is { } admin) log.LogInformation("AkkaCache admin endpoint on http://{AdminEndPoint}/health/ready", admin);
var signal = NodeServer.WaitForShutdownSignalAsync();
await Task.WhenAny(signal, server.Left, server.Refused);
if (server.Refused.IsCompleted)
{
    // the cluster's shard count is not this node's: leave rather than sit in the cluster unable to hold a shard
    Console.Error.WriteLine($"akkacache-server: {server.Refused.Result}");
    await server.LeaveClusterAsync(TimeSpan.FromSeconds(5));
    await server.DisposeAsync();
    return 2;
}
if (signal.IsCompleted && signal.Result == System.Runtime.InteropServices.PosixSignal.SIGTERM && server.IsClustered)
{
    // SIGTERM is a graceful leave: the shards move to the other nodes first; SIGINT stops at once (they fail over)
    log.LogInformation("AkkaCache node leaving the cluster");
    await server.LeaveClusterAsync(NodeServer.GracefulLeaveTimeout);
}
log.LogInformation("AkkaCache node shutting down");
await server.DisposeAsync();
return 0;
