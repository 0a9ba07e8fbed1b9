using AkkaCache.Server;
using Microsoft.Extensions.Logging;

NodeServer server;
try
{
    var options = NodeServer.LoadOptions(args);
    server = await NodeServer.StartAsync(options, logLevel: LogLevel.Warning);
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or FileNotFoundException or IOException)
{
    Console.Error.WriteLine($"akkacache-server: {e.Message}");
    return 2;
}

Console.WriteLine($"AkkaCache node ready, accepting connections on {string.Join(", ", server.EndPoints)}");
await server.WaitForShutdownAsync();
await server.DisposeAsync();
return 0;
