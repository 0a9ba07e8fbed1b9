using System.Buffers;
using System.Net.Sockets;
using AkkaCache.Protocol;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Cluster.Bus;

/// <summary>
/// One long-lived, pipelined connection from this node to another member's client port, on which the cluster bus
/// sends its commands (forwarded pub/sub messages, hot-key copies and pings). Writers encode into the pending buffer
/// under <see cref="Gate"/>; the send loop swaps it with the one it sends from, so a burst goes out in one write and a
/// message costs neither a task nor a queue node. The connection is made again after a failure, every 250 ms; what
/// was queued for the lost one is dropped (<see cref="OnDisconnected"/> says what that means for the subclass).
/// </summary>
public abstract class PeerLink : IAsyncDisposable
{
    private readonly string _host;
    private readonly int _port;
    private readonly string? _password;
    private readonly SendSignal _signal = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private ArrayBufferWriter<byte> _sending = new(4096);
    private bool _reportedDown;

    /// <param name="queueUntilConnected">Whether commands written before the first connection wait for it (else they are refused like any written while down).</param>
    protected PeerLink(string id, string host, int port, string? password, bool queueUntilConnected, ILogger logger)
    {
        Logger = logger;
        IsDown = !queueUntilConnected;
        Id = id;
        IdBytes = System.Text.Encoding.UTF8.GetBytes(id);
        _host = host;
        _port = port;
        _password = password;
        Endpoint = $"{host}:{port}";
    }

    protected ILogger Logger { get; }

    public string Id { get; }
    public byte[] IdBytes { get; }
    public string Endpoint { get; }

    /// <summary>Guards <see cref="Pending"/> and the subclass's state that goes with it.</summary>
    protected object Gate { get; } = new();

    /// <summary>Commands waiting for the send loop; written under <see cref="Gate"/>.</summary>
    protected ArrayBufferWriter<byte> Pending { get; private set; } = new(4096);

    /// <summary>Whether the link has lost its connection (under <see cref="Gate"/>): commands are refused until it is back.</summary>
    protected bool IsDown { get; private set; }

    /// <summary>What the log line calls the link ("pub/sub link", "hot-key link").</summary>
    protected abstract string Name { get; }

    /// <summary>What happens to messages while the link is down, for the one log line per outage.</summary>
    protected abstract string WhileDown { get; }

    /// <summary>Sent first on every new connection, after AUTH (null: nothing).</summary>
    protected virtual byte[]? Hello => null;

    /// <summary>Starts the link; called by the subclass once it is fully constructed.</summary>
    protected void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Wakes the send loop (cheap under <see cref="Gate"/>: it never runs the loop on the caller's thread).</summary>
    protected void Wake() => _signal.Set();

    /// <summary>Under <see cref="Gate"/>: a new connection is up, nothing sent on it yet.</summary>
    protected virtual void OnConnected() { }

    /// <summary>Under <see cref="Gate"/>: the pending commands are handed to the send loop.</summary>
    protected virtual void OnSending() { }

    /// <summary>Under <see cref="Gate"/>: the connection is gone; the pending commands are dropped right after.</summary>
    protected virtual void OnDisconnected() { }

    /// <summary>One reply from the peer, in order (Hello's included). Throwing cuts the connection.</summary>
    protected abstract void OnReply(ReadOnlySpan<byte> reply);

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(token);
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(_host, _port, token);
                var replies = new RespReplyReader(socket);
                if (_password is not null)
                {
                    await SendAsync(socket, RespRequestEncoder.Encode("AUTH", _password), token);
                    var auth = await replies.ReadRawAsync(token);
                    if (auth.Span[0] == (byte)'-') throw new IOException("AUTH refused: " + System.Text.Encoding.UTF8.GetString(auth.Span).TrimEnd());
                }
                if (Hello is { } hello) await SendAsync(socket, hello, token);
                lock (Gate)
                {
                    IsDown = false;
                    OnConnected();
                }
                _reportedDown = false;
                var receive = ReceiveAsync(replies, connection);
                using var wakeOnEnd = connection.Token.UnsafeRegister(static signal => ((SendSignal)signal!).Set(), _signal);
                try
                {
                    while (true)
                    {
                        await _signal.WaitAsync();
                        connection.Token.ThrowIfCancellationRequested();
                        lock (Gate)
                        {
                            (Pending, _sending) = (_sending, Pending);
                            OnSending();
                        }
                        if (_sending.WrittenCount == 0) continue;
                        await SendAsync(socket, _sending.WrittenMemory, connection.Token);
                        _sending.ResetWrittenCount();
                    }
                }
                finally
                {
                    connection.Cancel();
                    socket.Close();
                    await receive;
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                lock (Gate)
                {
                    IsDown = true;
                    OnDisconnected();
                    Pending.ResetWrittenCount();
                    _sending.ResetWrittenCount();
                }
                // once per outage, not once per retry
                if (!_reportedDown)
                {
                    _reportedDown = true;
                    Logger.LogWarning("{Link} to {PeerId} ({Endpoint}): {Reason}; retrying, {WhileDown}", Name, Id, Endpoint, e.Message, WhileDown);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try { await Task.Delay(250, token); }
            catch (OperationCanceledException) { break; }
        }
        lock (Gate) IsDown = true;
    }

    private async Task ReceiveAsync(RespReplyReader replies, CancellationTokenSource connection)
    {
        try
        {
            while (true) OnReply((await replies.ReadRawAsync(connection.Token)).Span);
        }
        catch (Exception e) when (e is not OperationCanceledException and not IOException and not SocketException)
        {
            Logger.LogWarning("{Link} to {PeerId} ({Endpoint}): {Reason}; reconnecting", Name, Id, Endpoint, e.Message);
        }
        catch (Exception)
        {
            // closed or reset: the send loop sees the cancellation below and reconnects
        }
        connection.Cancel();
    }

    private static async ValueTask SendAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (data.Length > 0)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, token);
            data = data[sent..];
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _signal.Set();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
