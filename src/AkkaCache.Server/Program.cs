using AkkaCache.Server;

NodeServer server;
try
{
    var options = NodeServer.LoadOptions(args);
    server = await NodeServer.StartAsync(options);
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or FileNotFoundException or IOException
                              or System.Net.Sockets.SocketException)
{
    Console.Error.WriteLine($"akkacache-server: {e.Message}");
    return 2;
}

Console.WriteLine($"AkkaCache node ready, accepting connections on {string.Join(", ", server.EndPoints)}");
await NodeServer.WaitForShutdownSignalAsync();
Console.WriteLine("AkkaCache node shutting down");
await server.DisposeAsync();
return 0;
