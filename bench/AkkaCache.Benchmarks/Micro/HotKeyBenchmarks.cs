using AkkaCache.Core.Eviction;
using AkkaCache.Core.HotKeys;
using AkkaCache.Core.Storage;
using BenchmarkDotNet.Attributes;

namespace AkkaCache.Benchmarks.Micro;

/// <summary>
/// What hot-key detection adds to a GET on one shard's table (as <see cref="EntryTableBenchmarks"/>): the request path
/// hashes the key a second time and records it. Uniform keys are the detector's common case (no candidate to update);
/// one hammered key is its busiest (a candidate found and updated on every access). The clock moves 1 ms per 100
/// accesses: a shard serving 100 000 per second.
/// </summary>
[MemoryDiagnoser]
public class HotKeyBenchmarks
{
    private const int Keys = 10_000;
    private EntryTable _table = null!;
    private HotKeyDetector _detector = null!;
    private byte[][] _keys = null!;
    private uint[] _hashes = null!;
    private readonly byte[] _value = new byte[64];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _table = new EntryTable(new MemoryBudget(), EvictionPolicyKind.AllKeysLru, 0);
        // the node's defaults (1 s windows, 1 %, 1000/s)
        _detector = new HotKeyDetector(1000, 0, thresholds: HotKeyThresholds.Default);
        _keys = Enumerable.Range(0, Keys).Select(i => System.Text.Encoding.ASCII.GetBytes($"key:{i:D12}")).ToArray();
        _hashes = _keys.Select(k => EntryTable.Hash(k)).ToArray();
        foreach (var key in _keys) _table.Set(key, EntryTable.Hash(key), _value, 0, 0, out _);
    }

    [Benchmark(Baseline = true)]
    public int Get()
    {
        var key = _keys[_next++ % Keys];
        return _table.FindForRead(key, EntryTable.Hash(key), 0);
    }

    [Benchmark]
    public int GetAndRecord()
    {
        var key = _keys[_next++ % Keys];
        int id = _table.FindForRead(key, EntryTable.Hash(key), 0);
        _detector.Record(key, EntryTable.Hash(key), _next / 100);
        return id;
    }

    /// <summary>The detector alone (hash computed beforehand), to tell its cost from the second hash's.</summary>
    [Benchmark]
    public void RecordOnly()
    {
        int at = _next++ % Keys;
        _detector.Record(_keys[at], _hashes[at], _next / 100);
    }

    [Benchmark]
    public int GetAndRecordOneHotKey()
    {
        var key = (_next++ & 1) == 0 ? _keys[0] : _keys[_next % Keys];
        int id = _table.FindForRead(key, EntryTable.Hash(key), 0);
        _detector.Record(key, EntryTable.Hash(key), _next / 100);
        return id;
    }
}
