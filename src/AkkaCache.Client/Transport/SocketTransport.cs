using System.Net;
using System.Net.Sockets;

namespace AkkaCache.Client.Transport;

/// <summary>TCP to a node, Nagle off: pipelined requests are already batched by the connection.</summary>
internal sealed class SocketTransport : INodeTransport
{
    private readonly Socket _socket;

    private SocketTransport(Socket socket) => _socket = socket;

    public static async ValueTask<INodeTransport> ConnectAsync(string endPoint, CancellationToken cancellation)
    {
        var (host, port) = HostPort.Split(endPoint);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (IPAddress.TryParse(host, out var address)) await socket.ConnectAsync(new IPEndPoint(address, port), cancellation).ConfigureAwait(false);
            else await socket.ConnectAsync(host, port, cancellation).ConfigureAwait(false);
            return new SocketTransport(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation) =>
        _socket.ReceiveAsync(buffer, SocketFlags.None, cancellation);

    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation)
    {
        var send = _socket.SendAsync(data, SocketFlags.None, cancellation);
        if (send.IsCompletedSuccessfully && send.Result == data.Length) return ValueTask.CompletedTask;
        return SendRestAsync(send, data, cancellation);
    }

    private async ValueTask SendRestAsync(ValueTask<int> pending, ReadOnlyMemory<byte> data, CancellationToken cancellation)
    {
        int sent = await pending.ConfigureAwait(false);
        while (sent < data.Length) sent += await _socket.SendAsync(data[sent..], SocketFlags.None, cancellation).ConfigureAwait(false);
    }

    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>host:port strings, as the topology names nodes.</summary>
internal static class HostPort
{
    public static (string Host, int Port) Split(string endPoint)
    {
        int colon = endPoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endPoint.AsSpan(colon + 1), out int port) || port is <= 0 or > 65535)
            throw new FormatException($"'{endPoint}' is not a host:port address.");
        var host = endPoint[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return (host, port);
    }

    public static string Join(string host, long port) => host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";
}
