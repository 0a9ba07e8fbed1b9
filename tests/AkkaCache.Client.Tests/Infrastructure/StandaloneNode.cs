using AkkaCache.Server;
using AkkaCache.Server.Configuration;

namespace AkkaCache.Client.Tests.Infrastructure;

/// <summary>A real standalone node started in-process on a free loopback port.</summary>
public sealed class StandaloneNode : IAsyncDisposable
{
    private readonly NodeServer _server;

    private StandaloneNode(NodeServer server) => _server = server;

    public int Port => _server.Port;
    public string EndPoint => $"127.0.0.1:{Port}";

    /// <param name="time">The node's clock: a ManualClock makes expiry a matter of advancing it, not of waiting.</param>
    public static async Task<StandaloneNode> StartAsync(Action<NodeOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new NodeOptions { Port = 0, Shards = 64 };
        configure?.Invoke(options);
        return new StandaloneNode(await NodeServer.StartAsync(options, time));
    }

    public Task<RespTestClient> ConnectAsync() => RespTestClient.ConnectAsync(Port);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
