using AkkaCache.Server;

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
    Console.Error.WriteLine($"akkacache-server: {e.Message}");
    return 2;
}

Console.WriteLine($"AkkaCache node ready, accepting connections on {string.Join(", ", server.EndPoints)}");
if (server.AdminEndPoint is { } admin) Console.WriteLine($"AkkaCache admin endpoint on http://{admin}/health/ready");
var signal = NodeServer.WaitForShutdownSignalAsync();
await Task.WhenAny(signal, server.Left);
if (signal.IsCompleted && signal.Result == System.Runtime.InteropServices.PosixSignal.SIGTERM && server.IsClustered)
{
    // SIGTERM is a graceful leave: the shards move to the other nodes first; SIGINT stops at once (they fail over)
    Console.WriteLine("AkkaCache node leaving the cluster");
    await server.LeaveClusterAsync(NodeServer.GracefulLeaveTimeout);
}
Console.WriteLine("AkkaCache node shutting down");
await server.DisposeAsync();
return 0;
