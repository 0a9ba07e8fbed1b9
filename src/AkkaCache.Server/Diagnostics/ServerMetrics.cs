using System.Diagnostics;
using System.Diagnostics.Metrics;
using AkkaCache.Cluster.HotKeys;
using AkkaCache.Server.Commands;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace AkkaCache.Server.Diagnostics;

/// <summary>
/// The node's System.Diagnostics.Metrics instruments, meter <c>AkkaCache.Server</c> (<c>dotnet-counters monitor
/// --counters AkkaCache.Server</c>). Everything but the latency histogram is observed at collection time from the
/// sources INFO reads (the shard counters, the memory budget, the clients' command counters, replication stats), so
/// the two never disagree and the request path counts nothing twice. Counters are totals since the node started:
/// CONFIG RESETSTAT resets INFO's view, not theirs (a counter must not go down).
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "AkkaCache.Server";
    public const string CommandTag = "command";

    private readonly CacheNode _node;
    private readonly Histogram<double> _duration;

    public ServerMetrics(CacheNode node)
    {
        _node = node;
        Meter = new Meter(MeterName, InfoReport.AkkaCacheVersion);
        Meter.CreateObservableCounter("akkacache.commands", ObserveCommands, "{command}", "Commands run, by command.");
        _duration = Meter.CreateHistogram<double>("akkacache.command.duration", "s", "Time a command took to run, by command.");
        Meter.CreateObservableCounter("akkacache.keyspace.hits", () => InfoReport.SumShards(_node).Hits, "{hit}", "Key lookups that found the key.");
        Meter.CreateObservableCounter("akkacache.keyspace.misses", () => InfoReport.SumShards(_node).Misses, "{miss}", "Key lookups that did not find the key.");
        Meter.CreateObservableCounter("akkacache.keys.evicted", () => InfoReport.SumShards(_node).Evicted, "{key}", "Keys evicted under the memory budget.");
        Meter.CreateObservableCounter("akkacache.keys.expired", () => InfoReport.SumShards(_node).Expired, "{key}", "Keys removed because their TTL passed.");
        Meter.CreateObservableGauge("akkacache.keys", () => InfoReport.SumShards(_node).Keys, "{key}", "Keys held (replica shards included).");
        Meter.CreateObservableGauge("akkacache.memory.used", () => _node.Engine.Memory.Allocated, "By", "Bytes the node's storage uses (INFO used_memory).");
        Meter.CreateObservableGauge("akkacache.clients.connected", () => _node.Clients.Count, "{client}", "Connected clients.");
        Meter.CreateObservableGauge("akkacache.hotkeys", () => HotKeyCommands.PeekCount(_node.Engine, _node.NowMs), "{key}", "Keys over both hot-key thresholds.");
        Meter.CreateObservableGauge("akkacache.replication.lag", ObserveReplicationLag, "{write}", "Writes the node's replicas have not acknowledged yet (cluster mode).");
        Meter.CreateObservableGauge("akkacache.shards.migrating", ObserveMigrating, "{shard}", "Shards this node is streaming to a new owner (cluster mode).");
        // hot-key replication (cluster mode): the same figures as INFO's hotkeys_* fields
        Meter.CreateObservableGauge("akkacache.hotkeys.promoted", () => ObserveHotKeys(static s => s.Promoted), "{key}", "Keys this node promoted: every other node holds a copy.");
        Meter.CreateObservableGauge("akkacache.hotkeys.copies", () => ObserveHotKeys(static s => s.Copies), "{key}", "Copies this node holds of other nodes' promoted keys.");
        Meter.CreateObservableCounter("akkacache.hotkeys.promotions", () => ObserveHotKeys(static s => s.Promotions), "{key}", "Keys promoted by this node.");
        Meter.CreateObservableCounter("akkacache.hotkeys.demotions", () => ObserveHotKeys(static s => s.Demotions), "{key}", "Keys demoted by this node.");
        Meter.CreateObservableCounter("akkacache.hotkeys.local_reads", ObserveHotReads, "{read}", "Reads answered from copies of other nodes' hot keys, without a redirect.");
        Meter.CreateObservableCounter("akkacache.hotkeys.write_waits", () => ObserveHotKeys(static s => s.WritesWaited), "{write}", "Writes whose reply waited for every copy to be updated.");
    }

    private IEnumerable<Measurement<long>> ObserveHotKeys(Func<HotKeyReplicationStats, long> figure)
    {
        if (_node.HotKeys is { } hotKeys) yield return new Measurement<long>(figure(hotKeys.Stats()));
    }

    private IEnumerable<Measurement<long>> ObserveHotReads()
    {
        if (_node.HotKeys is not null) yield return new Measurement<long>(_node.Clients.HotReadsServed);
    }

    public Meter Meter { get; }

    /// <summary>Whether anything listens to the latency histogram: the only instrument the request path feeds.</summary>
    public bool DurationEnabled => _duration.Enabled;

    /// <summary>
    /// A command has run on <paramref name="client"/>'s connection since the Stopwatch timestamp <paramref name="started"/>:
    /// its connection's counters, SLOWLOG if it was slow, the latency histogram if something listens.
    /// </summary>
    public void OnExecuted(Network.ClientInfo client, CommandDefinition command, in Request request, long started, bool failed)
    {
        long elapsed = Stopwatch.GetTimestamp() - started;
        long microseconds = CommandCounters.Microseconds(elapsed);
        client.CommandStats.Record(command, elapsed, microseconds, failed);
        var slowLog = _node.SlowLog;
        if (slowLog.IsSlow(microseconds)) slowLog.Add(command, request, _node.Time.GetUtcNow().ToUnixTimeSeconds(), microseconds, client.Address, client.Name);
        if (_duration.Enabled)
            _duration.Record(elapsed / (double)Stopwatch.Frequency, new KeyValuePair<string, object?>(CommandTag, command.LowerName));
    }

    private IEnumerable<Measurement<long>> ObserveCommands()
    {
        var stats = _node.Clients.CommandStats.Snapshot();
        for (int i = 0; i < stats.Length; i++)
        {
            if (stats[i] is { Calls: > 0 } counters)
                yield return new Measurement<long>(counters.Calls, new KeyValuePair<string, object?>(CommandTag, CommandTable.ByIndex[i].LowerName));
        }
    }

    private IEnumerable<Measurement<long>> ObserveReplicationLag()
    {
        if (_node.Replication is { } hub) yield return new Measurement<long>(hub.Stats().LagWrites);
    }

    private IEnumerable<Measurement<int>> ObserveMigrating()
    {
        if (_node.Replication is { } hub) yield return new Measurement<int>(hub.Stats().Migrating);
    }

    private MeterProvider? _otlp;

    /// <summary>
    /// With <c>OtlpEndpoint</c> set, exports this meter to an OpenTelemetry collector every <c>OtlpExportInterval</c>
    /// ms (and once more when the node stops), the node named by <c>service.instance.id</c>.
    /// </summary>
    public void StartExport(string nodeId)
    {
        var options = _node.Options;
        if (options.OtlpEndpoint is not { } endpoint) return;
        var protocol = options.OtlpProtocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        var uri = new Uri(endpoint);
        // set in code, the endpoint is used as given: over HTTP the exporter does not add the signal's path itself
        if (protocol == OtlpExportProtocol.HttpProtobuf && uri.AbsolutePath == "/") uri = new Uri(uri, "v1/metrics");
        _otlp = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => resource.AddService("akkacache-server", serviceVersion: InfoReport.AkkaCacheVersion, serviceInstanceId: nodeId))
            .AddMeter(MeterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = uri;
                exporter.Protocol = protocol;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = options.OtlpExportInterval;
            })
            .Build();
    }

    public void Dispose()
    {
        // the provider's last export reads the instruments: before the meter goes
        _otlp?.Dispose();
        Meter.Dispose();
    }
}
