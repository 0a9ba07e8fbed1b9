using AkkaCache.Client.Transport;

namespace AkkaCache.Client.Tests.Infrastructure;

/// <summary>
/// Stands in for a node embedded in the application: its "in-process" connections are real sockets to a real node, so
/// the client does real work through it, and every connection made through it is counted.
/// </summary>
public sealed class CountingInProcessNode(string endPoint) : IInProcessNode
{
    private int _connects;

    public string? EndPoint { get; } = endPoint;

    public int Connects => Volatile.Read(ref _connects);

    public async ValueTask<INodeTransport> ConnectAsync(CancellationToken cancellation)
    {
        var transport = await SocketTransport.ConnectAsync(EndPoint!, cancellation);
        Interlocked.Increment(ref _connects);
        return transport;
    }
}
