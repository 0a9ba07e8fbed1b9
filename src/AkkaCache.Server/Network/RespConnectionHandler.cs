using Microsoft.AspNetCore.Connections;

namespace AkkaCache.Server.Network;

/// <summary>Kestrel hands each accepted TCP connection to a <see cref="ClientSession"/>.</summary>
internal sealed class RespConnectionHandler(CacheNode node) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var info = node.Clients.Add(
            connection.RemoteEndPoint?.ToString() ?? "?",
            connection.LocalEndPoint?.ToString() ?? "?",
            node.NowMs,
            connection.Abort);
        var session = new ClientSession(node, info, connection.Transport.Input, connection.Transport.Output);
        await session.RunAsync(connection.ConnectionClosed);
    }
}
