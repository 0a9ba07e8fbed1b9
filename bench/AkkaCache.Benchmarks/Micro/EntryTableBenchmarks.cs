using AkkaCache.Core.Eviction;
using AkkaCache.Core.Storage;
using BenchmarkDotNet.Attributes;

namespace AkkaCache.Benchmarks.Micro;

/// <summary>GET and SET on one shard's table holding 10,000 keys (a 10 M key node has ~10,000 per shard).</summary>
[MemoryDiagnoser]
public class EntryTableBenchmarks
{
    private const int Keys = 10_000;
    private EntryTable _table = null!;
    private byte[][] _keys = null!;
    private readonly byte[] _value = new byte[64];
    private int _next;

    [Params(EvictionPolicyKind.AllKeysLru, EvictionPolicyKind.AllKeysLfu)]
    public EvictionPolicyKind Policy { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _table = new EntryTable(new MemoryBudget(), Policy, 0);
        _keys = Enumerable.Range(0, Keys).Select(i => System.Text.Encoding.ASCII.GetBytes($"key:{i:D12}")).ToArray();
        foreach (var key in _keys) _table.Set(key, EntryTable.Hash(key), _value, 0, 0, out _);
    }

    [Benchmark]
    public int Get()
    {
        var key = _keys[_next++ % Keys];
        return _table.FindForRead(key, EntryTable.Hash(key), 0);
    }

    [Benchmark]
    public WriteStatus Set()
    {
        var key = _keys[_next++ % Keys];
        return _table.Set(key, EntryTable.Hash(key), _value, 0, 0, out _);
    }
}
