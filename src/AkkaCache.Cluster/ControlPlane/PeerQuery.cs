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
    public static async Task<long[]?> PerShardAsync(string host, int port, string? password, string command, TimeSpan timeout, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(host, port, deadline.Token);
            if (password is not null) await socket.SendAsync(RespRequestEncoder.Encode("AUTH", password), SocketFlags.None, deadline.Token);
            await socket.SendAsync(RespRequestEncoder.Encode(command), SocketFlags.None, deadline.Token);
            var buffer = new byte[64 * 1024];
            int filled = 0, offset = 0;
            while (true)
            {
                if (filled == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline.Token);
                if (read == 0) return null;
                filled += read;
                while (true)
                {
                    var status = RespReplyParser.TryParse(buffer.AsSpan(offset, filled - offset), out var reply, out int consumed, out _);
                    if (status == RespParseStatus.Incomplete) break;
                    if (status == RespParseStatus.Error) return null;
                    offset += consumed;
                    if (reply!.Type == RespType.Array) return reply.Items!.Select(i => i.Integer).ToArray();
                    // the first answer was AUTH's (a refused AUTH shows up as -NOAUTH for the question itself)
                    if (password is null) return null;
                    password = null;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            return null;
        }
    }
}
