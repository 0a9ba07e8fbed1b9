using System.Net.Sockets;
using System.Text;
using AkkaCache.Protocol;

namespace AkkaCache.Server.Tests.Infrastructure;

/// <summary>A plain RESP client over a real socket: sends requests (encoded or raw bytes) and parses replies.</summary>
public sealed class RespTestClient : IAsyncDisposable
{
    private static readonly TimeSpan ReplyDeadline = TimeSpan.FromSeconds(30);

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly RespReceiveBuffer _buffer = new(64 * 1024);

    private RespTestClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects; a small <paramref name="receiveBufferSize"/> makes a client that stops reading back up the server sooner.</summary>
    public static async Task<RespTestClient> ConnectAsync(int port, int? receiveBufferSize = null)
    {
        var tcp = new TcpClient { NoDelay = true };
        if (receiveBufferSize is { } size) tcp.ReceiveBufferSize = size;
        await tcp.ConnectAsync("127.0.0.1", port);
        return new RespTestClient(tcp);
    }

    public async Task<RespValue> SendAsync(params string[] args)
    {
        await SendRawAsync(RespRequestEncoder.Encode(args));
        return await ReadAsync();
    }

    public async Task<RespValue> SendBytesAsync(params byte[][] args)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        RespRequestEncoder.Encode(writer, args.Select(a => (ReadOnlyMemory<byte>)a).ToList());
        await SendRawAsync(writer.WrittenSpan.ToArray());
        return await ReadAsync();
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
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
            int read = await _stream.ReadAsync(_buffer.FreeSpace(), timeout.Token);
            if (read == 0) throw new EndOfStreamException("The server closed the connection.");
            _buffer.Received(read);
        }
    }

    /// <summary>True once the server has closed the connection (reads end), within the deadline.</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        using var timeout = new CancellationTokenSource(ReplyDeadline);
        var scratch = new byte[4096];
        try
        {
            while (true)
            {
                int read = await _stream.ReadAsync(scratch, timeout.Token);
                if (read == 0) return true;
            }
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}

public static class RespValueAssertions
{
    public static string Text(this RespValue value) =>
        value.AsString() ?? throw new Xunit.Sdk.XunitException($"Expected a string reply, got {value}");

    public static void AssertOk(this RespValue value) => Assert.Equal("OK", value.AsString());

    public static void AssertError(this RespValue value, string expected)
    {
        Assert.True(value.IsError, $"Expected error '{expected}', got {value}");
        Assert.Equal(expected, value.AsString());
    }

    public static void AssertErrorStartsWith(this RespValue value, string prefix)
    {
        Assert.True(value.IsError, $"Expected error '{prefix}...', got {value}");
        Assert.StartsWith(prefix, value.AsString());
    }

    public static long Int(this RespValue value)
    {
        Assert.True(value.Type == RespType.Integer, $"Expected an integer, got {value}");
        return value.Integer;
    }
}
