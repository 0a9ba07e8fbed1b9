namespace AkkaCache.Client.Transport;

/// <summary>
/// A byte stream to one node carrying RESP both ways: a TCP socket, or an in-process connection to a node embedded in
/// the same application (<see cref="IInProcessNode"/>), which never touches the network.
/// </summary>
public interface INodeTransport : IAsyncDisposable
{
    /// <summary>Receives bytes into <paramref name="buffer"/>; 0 when the node has closed the connection.</summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation);

    /// <summary>Sends all of <paramref name="data"/>.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation);

    /// <summary>Breaks the connection at once: a pending receive completes with 0 or throws.</summary>
    void Abort();
}

/// <summary>
/// A node running in this process (AkkaCache.Hosting registers one). The client connects to it in process instead of
/// over TCP whenever the topology routes a key to <see cref="EndPoint"/>, so calls for keys the local node owns skip the network.
/// </summary>
public interface IInProcessNode
{
    /// <summary>The host:port the node is known by in the topology (its announced address), or null until it is listening.</summary>
    string? EndPoint { get; }

    /// <summary>Opens a new in-process connection, served by the node like any client connection.</summary>
    ValueTask<INodeTransport> ConnectAsync(CancellationToken cancellation);
}
