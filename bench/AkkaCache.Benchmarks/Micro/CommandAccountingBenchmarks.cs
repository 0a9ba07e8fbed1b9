using System.Diagnostics;
using System.Diagnostics.Metrics;
using AkkaCache.Protocol;
using AkkaCache.Server;
using AkkaCache.Server.Commands;
using AkkaCache.Server.Configuration;
using AkkaCache.Server.Network;
using BenchmarkDotNet.Attributes;

namespace AkkaCache.Benchmarks.Micro;

/// <summary>
/// What the per-command accounting (INFO commandstats, LATENCY HISTOGRAM, SLOWLOG, the metrics) adds to a GET on one
/// shard's table (as <see cref="HotKeyBenchmarks"/>): a Stopwatch timestamp before the command and
/// <see cref="Server.Diagnostics.ServerMetrics.OnExecuted"/> after it, as ClientSession runs them. Listened: a
/// MeterListener (doing nothing) enables the latency histogram, as dotnet-counters or the OTLP exporter would.
/// </summary>
[MemoryDiagnoser]
public class CommandAccountingBenchmarks
{
    private const int Keys = 10_000;
    private static readonly byte[] RequestBytes = "*2\r\n$3\r\nGET\r\n$16\r\nkey:000000000042\r\n"u8.ToArray();

    private CacheNode _node = null!;
    private ClientInfo _client = null!;
    private CommandDefinition _get = null!;
    private readonly RespArguments _arguments = new();
    private Core.Storage.EntryTable _table = null!;
    private byte[][] _keys = null!;
    private MeterListener? _listener;
    private int _next;

    [Params(false, true)]
    public bool Listened { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _node = new CacheNode(new NodeOptions { Shards = 8 }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        _client = _node.Clients.Add("127.0.0.1:1", "127.0.0.1:6379", 0, () => { });
        CommandTable.TryGet("GET", out _get);
        var limits = new RespRequestLimits(1024 * 1024, 1024, 64 * 1024);
        RespRequestParser.TryParse(RequestBytes, in limits, _arguments, out _, out _);
        _table = new Core.Storage.EntryTable(new Core.Storage.MemoryBudget(), Core.Eviction.EvictionPolicyKind.AllKeysLru, 0);
        _keys = Enumerable.Range(0, Keys).Select(i => System.Text.Encoding.ASCII.GetBytes($"key:{i:D12}")).ToArray();
        foreach (var key in _keys) _table.Set(key, Core.Storage.EntryTable.Hash(key), new byte[64], 0, 0, out _);
        if (Listened)
        {
            _listener = new MeterListener { InstrumentPublished = (i, l) => { if (ReferenceEquals(i.Meter, _node.Metrics.Meter)) l.EnableMeasurementEvents(i); } };
            _listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
            _listener.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _node.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int Get()
    {
        var key = _keys[_next++ % Keys];
        return _table.FindForRead(key, Core.Storage.EntryTable.Hash(key), 0);
    }

    [Benchmark]
    public int GetAndAccount()
    {
        long started = Stopwatch.GetTimestamp();
        var key = _keys[_next++ % Keys];
        int id = _table.FindForRead(key, Core.Storage.EntryTable.Hash(key), 0);
        _node.Metrics.OnExecuted(_client, _get, new Request(RequestBytes, _arguments), started, failed: false);
        return id;
    }
}
