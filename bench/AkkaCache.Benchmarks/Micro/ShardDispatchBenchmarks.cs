using AkkaCache.Core.Actors;
using AkkaCache.Core.Eviction;
using AkkaCache.Core.Storage;
using BenchmarkDotNet.Attributes;

namespace AkkaCache.Benchmarks.Micro;

/// <summary>
/// What it costs to get onto a shard actor: entering it inline on the caller's thread when it is idle, versus
/// queueing to its mailbox and being handed the shard on a thread-pool turn (the continuation then runs there).
/// </summary>
[MemoryDiagnoser]
public class ShardDispatchBenchmarks
{
    private ShardActor _shard = null!;
    private readonly ShardEntryWaiter _waiter = new();
    private readonly byte[] _key = "key:000000001234"u8.ToArray();

    [GlobalSetup]
    public void Setup()
    {
        _shard = new ShardActor(0, new EntryTable(new MemoryBudget(), EvictionPolicyKind.AllKeysLru, 0));
        _shard.Table.Set(_key, EntryTable.Hash(_key), new byte[64], 0, 0, out _);
    }

    [Benchmark(Baseline = true)]
    public int InlineWhenIdle()
    {
        if (!_shard.TryEnter()) throw new InvalidOperationException("shard busy");
        int id = _shard.Table.FindForRead(_key, EntryTable.Hash(_key), 0);
        _shard.Exit();
        return id;
    }

    [Benchmark]
    public async Task<int> ThroughMailbox()
    {
        await _shard.EnterAsync(_waiter);
        int id = _shard.Table.FindForRead(_key, EntryTable.Hash(_key), 0);
        _shard.Exit();
        return id;
    }
}
