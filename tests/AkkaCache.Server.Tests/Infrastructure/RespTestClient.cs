using System.Net.Sockets;
using AkkaCache.Protocol;

namespace AkkaCache.Server.Tests.Infrastructure;

/// <summary>A plain RESP client over a real socket: sends requests (encoded or raw bytes) and parses replies (<see cref="StreamRespClient"/> over the socket).</summary>
public sealed class RespTestClient : IAsyncDisposable
{
    private readonly StreamRespClient _client;

    private RespTestClient(TcpClient tcp)
    {
        var stream = tcp.GetStream();
        _client = new StreamRespClient(
            async (bytes, cancellation) =>
            {
                await stream.WriteAsync(bytes, cancellation);
                await stream.FlushAsync(cancellation);
            },
            stream.ReadAsync,
            () =>
            {
                tcp.Dispose();
                return ValueTask.CompletedTask;
            });
    }

    /// <summary>Connects; a small <paramref name="receiveBufferSize"/> makes a client that stops reading back up the server sooner.</summary>
    public static async Task<RespTestClient> ConnectAsync(int port, int? receiveBufferSize = null)
    {
        var tcp = new TcpClient { NoDelay = true };
        if (receiveBufferSize is { } size) tcp.ReceiveBufferSize = size;
        await tcp.ConnectAsync("127.0.0.1", port);
        return new RespTestClient(tcp);
    }

    public Task<RespValue> SendAsync(params string[] args) => _client.SendAsync(args);

    public async Task<RespValue> SendBytesAsync(params byte[][] args)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        RespRequestEncoder.Encode(writer, args.Select(a => (ReadOnlyMemory<byte>)a).ToList());
        await _client.SendRawAsync(writer.WrittenSpan.ToArray());
        return await _client.ReadAsync();
    }

    public Task SendRawAsync(byte[] bytes) => _client.SendRawAsync(bytes);

    public Task SendRawAsync(string text) => _client.SendRawAsync(text);

    public Task<RespValue> ReadAsync() => _client.ReadAsync();

    /// <summary>True once the server has closed the connection (reads end or fail), within the deadline.</summary>
    public Task<bool> IsClosedByServerAsync() => _client.IsClosedByServerAsync();

    public ValueTask DisposeAsync() => _client.DisposeAsync();
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
