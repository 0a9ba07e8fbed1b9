using System.Net.Sockets;
using AkkaCache.Protocol;

namespace AkkaCache.Cli;

/// <summary>
/// One connection to one node, for the tool's per-node questions (INFO, AC.HOTKEYS, SLOWLOG, CLUSTER ...): the cluster
/// client routes by key, but an operator asks a particular node. Framing is the protocol library's
/// (<see cref="RespRequestEncoder"/>, <see cref="RespReplyReader"/>); failures become <see cref="CliException"/>s
/// that say what to do.
/// </summary>
public sealed class NodeClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly RespReplyReader _replies;
    private readonly TimeSpan _timeout;

    private NodeClient(string endpoint, Socket socket, TimeSpan timeout)
    {
        Endpoint = endpoint;
        _socket = socket;
        _replies = new RespReplyReader(socket);
        _timeout = timeout;
    }

    public string Endpoint { get; }

    public static async Task<NodeClient> ConnectAsync(string endpoint, string? password, TimeSpan timeout, CancellationToken cancellation)
    {
        var (host, port) = ParseEndpoint(endpoint);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(host, port, deadline.Token);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw Unreachable(endpoint, e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "unknown host",
                _ => e.Message,
            }, e);
        }
        catch (OperationCanceledException e) when (!cancellation.IsCancellationRequested)
        {
            socket.Dispose();
            throw new CliException(ExitCodes.Timeout, $"cannot reach {endpoint}: no connection within {Seconds(timeout)} — is the address right? (--timeout to wait longer)", e);
        }
        var client = new NodeClient(endpoint, socket, timeout);
        if (!string.IsNullOrEmpty(password))
        {
            var auth = await client.CallAsync(cancellation, "AUTH", password);
            if (auth.IsError)
            {
                await client.DisposeAsync();
                throw new CliException(ExitCodes.NodeError, $"{endpoint} refused the password: {auth.AsString()} — check --password or AKKACACHE_PASSWORD");
            }
        }
        return client;
    }

    /// <summary>The node's reply, errors included (<see cref="RespValue.IsError"/>).</summary>
    public async Task<RespValue> CallAsync(CancellationToken cancellation, params string[] args)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(_timeout);
        try
        {
            await _socket.SendAsync(RespRequestEncoder.Encode(args), SocketFlags.None, deadline.Token);
            var reply = await _replies.ReadAsync(deadline.Token);
            if (reply.IsError && reply.AsString() is { } error && error.StartsWith("NOAUTH", StringComparison.Ordinal))
                throw new CliException(ExitCodes.NodeError, $"{Endpoint} requires a password: use --password or AKKACACHE_PASSWORD");
            return reply;
        }
        catch (OperationCanceledException e) when (!cancellation.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Timeout, $"{Endpoint} did not answer {args[0]} within {Seconds(_timeout)} — is the node overloaded or paused? (--timeout to wait longer)", e);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            throw Unreachable(Endpoint, "connection lost: " + e.Message, e);
        }
    }

    /// <summary>The node's reply; an error reply becomes a <see cref="CliException"/> with <see cref="ExitCodes.NodeError"/>.</summary>
    public async Task<RespValue> ExpectAsync(CancellationToken cancellation, params string[] args)
    {
        var reply = await CallAsync(cancellation, args);
        if (reply.IsError) throw new CliException(ExitCodes.NodeError, $"{Endpoint} answered {string.Join(' ', args.Take(2))}: {reply.AsString()}");
        return reply;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>"host:port" (a bare host means port 6379; "[::1]:7000" for IPv6).</summary>
    public static (string Host, int Port) ParseEndpoint(string endpoint)
    {
        string text = endpoint.Trim();
        int colon = text.LastIndexOf(':');
        bool bracketed = text.StartsWith('[');
        if (colon < 0 || bracketed && colon < text.IndexOf(']'))
        {
            if (text.Length == 0) throw BadEndpoint(endpoint);
            return (text.Trim('[', ']'), 6379);
        }
        string host = text[..colon].Trim('[', ']');
        if (host.Length == 0 || !int.TryParse(text.AsSpan(colon + 1), out int port) || port is < 1 or > 65535) throw BadEndpoint(endpoint);
        return (host, port);
    }

    private static CliException BadEndpoint(string endpoint) =>
        new(ExitCodes.Usage, $"'{endpoint}' is not a node address: expected host:port, e.g. --host 127.0.0.1:7000");

    private static CliException Unreachable(string endpoint, string why, Exception inner) =>
        new(ExitCodes.Connection, $"cannot reach {endpoint}: {why} — is the node running? use --host to pick another node", inner);

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + "s";
}
