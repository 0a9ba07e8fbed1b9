using AkkaCache.Client;
using AkkaCache.Client.Transport;
using AkkaCache.Hosting;
using AkkaCache.Server;
using AkkaCache.Server.Configuration;
using BenchmarkDotNet.Attributes;

namespace AkkaCache.Benchmarks.Micro;

/// <summary>
/// One awaited client call at a time against a real node in the same process, over loopback TCP or over the
/// in-process transport an embedded node offers: the round trip's latency and, with the memory diagnoser, the bytes
/// allocated per call, client and node together (the node's GET/SET/INCR over TCP allocate nothing, which
/// Server.Tests' AllocationTests assert).
/// </summary>
[MemoryDiagnoser]
public class ClientRoundTripBenchmarks
{
    [Params("tcp", "inproc")]
    public string Transport { get; set; } = "tcp";

    private NodeServer _node = null!;
    private AkkaCacheClient _cache = null!;
    private readonly byte[] _key = "bench:key"u8.ToArray();
    private readonly byte[] _value = new byte[64];
    private readonly byte[] _missing = "bench:missing"u8.ToArray();
    private readonly byte[] _counter = "bench:counter"u8.ToArray();

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _node = await NodeServer.StartAsync(new NodeOptions { Port = 0 });
        var options = AkkaCacheClientOptions.Parse(_node.AnnouncedEndPoint);
        if (Transport == "inproc") options.InProcessNode = new EmbeddedNode(_node);
        _cache = await AkkaCacheClient.ConnectAsync(options);
        await _cache.SetAsync(_key, _value);
        await _cache.SetAsync(_counter, "0");
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _cache.DisposeAsync();
        await _node.DisposeAsync();
    }

    // the client's own ValueTasks are returned, so the figures hold no allocation of a benchmark-side state machine
    [Benchmark]
    public ValueTask<byte[]?> Get() => _cache.GetAsync(_key);

    [Benchmark]
    public ValueTask Set() => _cache.SetAsync(_key, _value);

    [Benchmark]
    public ValueTask<long> Increment() => _cache.IncrementAsync(_counter);

    [Benchmark]
    public ValueTask<byte[]?> GetMiss() => _cache.GetAsync(_missing);

    private sealed class EmbeddedNode(NodeServer server) : IInProcessNode
    {
        public string? EndPoint => server.AnnouncedEndPoint;

        public ValueTask<INodeTransport> ConnectAsync(CancellationToken cancellation) =>
            ValueTask.FromResult<INodeTransport>(new InProcessNodeTransport(server.ConnectInProcess()));
    }
}
