using AkkaCache.Server.Configuration;

namespace AkkaCache.Server.Tests.Infrastructure;

/// <summary>A real node started in-process on a free loopback port, optionally on a test-driven clock.</summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly NodeServer _server;

    private TestNode(NodeServer server, ManualClock? clock)
    {
        _server = server;
        Clock = clock;
    }

    public int Port => _server.Port;

    public ManualClock? Clock { get; }

    internal CacheNode Node => _server.Node;

    internal Core.CacheEngine Engine => _server.Node.Engine;

    public static async Task<TestNode> StartAsync(Action<NodeOptions>? configure = null, ManualClock? clock = null)
    {
        var options = new NodeOptions { Port = 0, Shards = 64 };
        configure?.Invoke(options);
        var server = await NodeServer.StartAsync(options, clock);
        return new TestNode(server, clock);
    }

    public Task<RespTestClient> ConnectAsync() => RespTestClient.ConnectAsync(Port);

    public NodeServer Server => _server;

    public StreamRespClient ConnectInProcess() => StreamRespClient.Over(_server.ConnectInProcess());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
