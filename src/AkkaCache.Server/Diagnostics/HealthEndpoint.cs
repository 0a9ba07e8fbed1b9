using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace AkkaCache.Server.Diagnostics;

/// <summary>
/// The admin port: a minimal HTTP/1.1 responder for orchestrators' probes. GET /health/live answers 200 while the
/// process serves; GET /health/ready answers 200 when the node takes requests (standalone: listening; in a cluster:
/// joined, following a shard map, its lease valid, not leaving) and 503 otherwise, each with a small JSON body. One
/// request per connection (Connection: close): probes are rare, and the node's request path is not involved.
/// </summary>
internal sealed class HealthEndpoint : IAsyncDisposable
{
    private const int MaxRequestBytes = 8192;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly Func<NodeStatus> _status;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;

    public HealthEndpoint(Func<NodeStatus> status, IPEndPoint endPoint)
    {
        _status = status;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            Network.NodeListener.AllowRebindWhileClosing(_socket);
            _socket.Bind(endPoint);
            _socket.Listen(64);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _acceptLoop = Network.AcceptLoop.RunAsync(_socket, client => _ = ServeAsync(client), _stopping.Token);
    }

    public IPEndPoint EndPoint { get; }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            var head = await ReadHeadAsync(client, timeout.Token);
            var (status, body, allow) = head is null ? (400, Json("error", "malformed request"), null) : Respond(head.Value.Method, head.Value.Path);
            bool withBody = head?.Method != "HEAD";
            await client.SendAsync(Response(status, body, allow, withBody), SocketFlags.None, timeout.Token);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // a probe that went away or never finished its request: nothing to answer
        }
    }

    /// <summary>The request line's method and path, once the whole head has arrived; null when it is not HTTP/1.x or too long.</summary>
    private static async Task<(string Method, string Path)?> ReadHeadAsync(Socket client, CancellationToken cancellation)
    {
        var buffer = new byte[MaxRequestBytes];
        int length = 0;
        while (true)
        {
            int end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (end >= 0) break;
            if (length == buffer.Length) return null;
            int read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellation);
            if (read == 0) return null;
            length += read;
        }
        var line = Encoding.ASCII.GetString(buffer, 0, buffer.AsSpan(0, length).IndexOf("\r\n"u8)).Split(' ');
        if (line.Length != 3 || !line[2].StartsWith("HTTP/1.", StringComparison.Ordinal)) return null;
        string path = line[1];
        int query = path.IndexOf('?', StringComparison.Ordinal);
        return (line[0], query >= 0 ? path[..query] : path);
    }

    internal (int Status, byte[] Body, string? Allow) Respond(string method, string path)
    {
        bool live = path == "/health/live", ready = path == "/health/ready";
        if (!live && !ready) return (404, Json("error", $"no such path; try /health/live or /health/ready"), null);
        if (method is not ("GET" or "HEAD")) return (405, Json("error", "use GET or HEAD"), "GET, HEAD");
        var status = _status();
        if (live) return status.IsStopped ? (503, Json("status", "stopped"), null) : (200, Json("status", "live"), null);
        bool isReady = IsReady(status);
        return (isReady ? 200 : 503, ReadinessBody(status, isReady), null);
    }

    /// <summary>Standalone: serving. In a cluster: serving with a shard map and a lease the node can vouch for, and not leaving.</summary>
    internal static bool IsReady(NodeStatus status) =>
        !status.IsStopped && status.CanServe && (!status.IsClustered || (status.IsMember && status.HasTopology && status.LeaseValid && !status.IsLeaving));

    private static byte[] ReadinessBody(NodeStatus status, bool ready)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("status", ready ? "ready" : "not ready");
            json.WriteString("node", status.NodeId ?? status.EndPoint);
            json.WriteBoolean("clustered", status.IsClustered);
            if (status.IsClustered)
            {
                json.WriteBoolean("member", status.IsMember);
                json.WriteBoolean("has_topology", status.HasTopology);
                json.WriteBoolean("lease_valid", status.LeaseValid);
                json.WriteBoolean("leaving", status.IsLeaving);
                json.WriteNumber("epoch", status.Epoch);
            }
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static byte[] Json(string name, string value)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString(name, value);
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static byte[] Response(int status, byte[] body, string? allow, bool withBody)
    {
        string reason = status switch { 200 => "OK", 400 => "Bad Request", 404 => "Not Found", 405 => "Method Not Allowed", _ => "Service Unavailable" };
        var head = new StringBuilder()
            .Append("HTTP/1.1 ").Append(status).Append(' ').Append(reason).Append("\r\n")
            .Append("Content-Type: application/json\r\n")
            .Append("Content-Length: ").Append(body.Length).Append("\r\n")
            .Append("Cache-Control: no-store\r\n")
            .Append("Connection: close\r\n");
        if (allow is not null) head.Append("Allow: ").Append(allow).Append("\r\n");
        head.Append("\r\n");
        var bytes = Encoding.ASCII.GetBytes(head.ToString());
        return withBody ? [.. bytes, .. body] : bytes;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _socket.Dispose();
        await _acceptLoop;
        _stopping.Dispose();
    }
}
