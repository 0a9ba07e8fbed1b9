using AkkaCache.Protocol;

namespace AkkaCache.Server.Tests.Infrastructure;

/// <summary>A test class with its own node on a driven clock and one connected client.</summary>
public abstract class ConnectedNodeTest : IAsyncLifetime
{
    protected ManualClock Clock { get; } = new();
    protected TestNode Node { get; private set; } = null!;
    protected RespTestClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = await TestNode.StartAsync(clock: Clock);
        Client = await Node.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        await Node.DisposeAsync();
    }

    protected Task<RespValue> Send(params string[] args) => Client.SendAsync(args);
}
