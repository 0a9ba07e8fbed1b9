using System.Net.Sockets;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>The client port: one node per port, and a node restarted at once gets its port back.</summary>
public sealed class ListenerTests
{
    [Fact]
    public async Task A_second_node_cannot_take_a_port_in_use_and_a_restarted_node_gets_it_back()
    {
        var first = await TestNode.StartAsync();
        int port = first.Port;
        var error = await Assert.ThrowsAnyAsync<SocketException>(() => TestNode.StartAsync(o => o.Port = port));
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);

        // the node that holds the port closes an open connection itself (its side lingers in TIME_WAIT), then stops
        await using (var client = await first.ConnectAsync())
        {
            Assert.Equal("PONG", (await client.SendAsync("PING")).AsString());
            await first.DisposeAsync();
        }
        await using var again = await TestNode.StartAsync(o => o.Port = port);
        await using var next = await again.ConnectAsync();
        Assert.Equal("PONG", (await next.SendAsync("PING")).AsString());
    }
}
