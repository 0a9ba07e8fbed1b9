using AkkaCache.Client.Transport;
using AkkaCache.Server;

namespace AkkaCache.Hosting;

/// <summary>The client's transport over the server's in-process connection (the server cannot know the client's types).</summary>
internal sealed class InProcessNodeTransport(InProcessConnection connection) : INodeTransport
{
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation) => connection.ReceiveAsync(buffer, cancellation);

    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation) => connection.SendAsync(data, cancellation);

    public void Abort() => connection.Abort();

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
