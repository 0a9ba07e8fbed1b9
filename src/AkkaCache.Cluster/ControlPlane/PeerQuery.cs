using System.Net.Sockets;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.ControlPlane;

/// <summary>
/// What the leader asks other nodes, one number per shard: before a failover with a choice of replicas, how far each
/// candidate applied each shard's stream (<c>AC.ROFFSETS</c>; sequence numbers of one shard come from one primary's
/// counter, so they compare); before starting migrations, how many bytes each shard holds (<c>AC.RSIZES</c>), so the
/// smallest move first.
/// </summary>
internal static class PeerQuery
{
    public const string Offsets = "AC.ROFFSETS";
    public const string Sizes = "AC.RSIZES";

    /// <summary>The member's answer to <paramref name="command"/>, one number per shard; null if it did not answer in time.</summary>
    public static async Task<long[]?> PerShardAsync(string host, int port, string? password, string command, TimeSpan timeout, CancellationToken cancellation) =>
        (await AskAsync(host, port, password, [command], timeout, cancellation))?.Items?.Select(i => i.Integer).ToArray();

    /// <summary>The member's reply to one request on a fresh connection; null if it did not answer in time.</summary>
    public static async Task<RespValue?> AskAsync(string host, int port, string? password, string[] request, TimeSpan timeout, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(host, port, deadline.Token);
            if (password is not null) await socket.SendAsync(RespRequestEncoder.Encode("AUTH", password), SocketFlags.None, deadline.Token);
            await socket.SendAsync(RespRequestEncoder.Encode(request), SocketFlags.None, deadline.Token);
            var replies = new RespReplyReader(socket);
            // a refused AUTH shows up as -NOAUTH for the question itself
            if (password is not null) await replies.ReadAsync(deadline.Token);
            return await replies.ReadAsync(deadline.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            return null;
        }
    }
}
