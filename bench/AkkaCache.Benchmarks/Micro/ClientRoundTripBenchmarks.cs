using AkkaCache.Client;
using AkkaCache.Server;
using AkkaCache.Server.Configuration;
using BenchmarkDotNet.Attributes;

namespace AkkaCache.Benchmarks.Micro;

/// <summary>
/// One awaited client call at a time against a real node in the same process over loopback TCP: the round trip's
/// latency and, with the memory diagnoser, the bytes allocated per call — client and node together (the node's
/// GET/SET/INCR allocate nothing, which Server.Tests' AllocationTests assert).
/// </summary>
[MemoryDiagnoser]
public class ClientRoundTripBenchmarks
{
    private NodeServer _node = null!;
    private AkkaCacheClient _cache = null!;
    private readonly byte[] _key = "bench:key"u8.ToArray();
    private readonly byte[] _value = new byte[64];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _node = await NodeServer.StartAsync(new NodeOptions { Port = 0 });
        _cache = await AkkaCacheClient.ConnectAsync($"127.0.0.1:{_node.Port}");
        await _cache.SetAsync(_key, _value);
        await _cache.SetAsync("bench:counter", "0");
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _cache.DisposeAsync();
        await _node.DisposeAsync();
    }

    [Benchmark]
    public async Task<byte[]?> Get() => await _cache.GetAsync(_key);

    [Benchmark]
    public async Task Set() => await _cache.SetAsync(_key, _value);

    [Benchmark]
    public async Task<long> Increment() => await _cache.IncrementAsync("bench:counter");

    [Benchmark]
    public async Task<byte[]?> GetMiss() => await _cache.GetAsync("bench:missing"u8.ToArray());
}
