using System.Text;
using AkkaCache.Protocol;

namespace AkkaCache.Server.Tests.Infrastructure;

/// <summary>
/// A plain RESP client over any byte stream given as send and receive functions (an in-process connection, the
/// client's transport, a socket's stream for <see cref="RespTestClient"/>): sends requests (encoded or raw bytes) and parses replies.
/// </summary>
public sealed class StreamRespClient(
    Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> send,
    Func<Memory<byte>, CancellationToken, ValueTask<int>> receive,
    Func<ValueTask> dispose) : IAsyncDisposable
{
    private static readonly TimeSpan ReplyDeadline = TimeSpan.FromSeconds(30);

    private readonly RespReceiveBuffer _buffer = new(64 * 1024);

    public static StreamRespClient Over(InProcessConnection connection) =>
        new(connection.SendAsync, connection.ReceiveAsync, connection.DisposeAsync);

    public async Task<RespValue> SendAsync(params string[] args)
    {
        await SendRawAsync(RespRequestEncoder.Encode(args));
        return await ReadAsync();
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(ReplyDeadline);
        await send(bytes, timeout.Token);
    }

    public Task SendRawAsync(string text) => SendRawAsync(Encoding.UTF8.GetBytes(text));

    public async Task<RespValue> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(ReplyDeadline);
        while (true)
        {
            if (_buffer.UnreadCount > 0)
            {
                var status = RespReplyParser.TryParse(_buffer.Unread, out var value, out int consumed, out string? error);
                if (status == RespParseStatus.Complete)
                {
                    _buffer.Consume(consumed);
                    return value!;
                }
                if (status == RespParseStatus.Error) throw new InvalidDataException($"Bad reply: {error}");
            }
            await FillAsync(timeout.Token);
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> reply bytes, unparsed.</summary>
    public async Task<byte[]> ReadRawAsync(int count)
    {
        using var timeout = new CancellationTokenSource(ReplyDeadline);
        while (_buffer.UnreadCount < count) await FillAsync(timeout.Token);
        var bytes = _buffer.Unread[..count].ToArray();
        _buffer.Consume(count);
        return bytes;
    }

    private async Task FillAsync(CancellationToken cancellation)
    {
        int read = await receive(_buffer.FreeSpace(), cancellation);
        if (read == 0) throw new EndOfStreamException("The server closed the connection.");
        _buffer.Received(read);
    }

    /// <summary>True once the server has closed the connection (receive returns 0), within the deadline.</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        using var timeout = new CancellationTokenSource(ReplyDeadline);
        var scratch = new byte[4096];
        try
        {
            while (await receive(scratch, timeout.Token) > 0)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true; // reset rather than closed: gone all the same
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync() => dispose();
}
