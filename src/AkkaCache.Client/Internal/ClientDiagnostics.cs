using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Client.Internal;

/// <summary>
/// The client's logs (through ILogger) and metrics (meter "AkkaCache.Client", readable with dotnet-counters or any
/// MeterListener). Instruments are checked for listeners first, so an unobserved client pays for nothing but the check.
/// </summary>
internal sealed class ClientDiagnostics : IDisposable
{
    public const string MeterName = "AkkaCache.Client";

    private readonly ILogger _logger;
    private readonly Meter _meter;
    private readonly Counter<long> _operations;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _redirects;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _connects;
    private readonly Counter<long> _connectionsLost;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _hotReads;

    public ClientDiagnostics(ILogger logger, IMeterFactory? meterFactory)
    {
        _logger = logger;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _operations = _meter.CreateCounter<long>("akkacache.client.operations", "{operation}", "Calls completed, by command and outcome.");
        _errors = _meter.CreateCounter<long>("akkacache.client.errors", "{operation}", "Calls that failed, by command and error kind.");
        _redirects = _meter.CreateCounter<long>("akkacache.client.redirects", "{redirect}", "-MOVED and -ASK redirects followed.");
        _retries = _meter.CreateCounter<long>("akkacache.client.retries", "{retry}", "Calls sent again after -TRYAGAIN, -CLUSTERDOWN or a lost connection.");
        _connects = _meter.CreateCounter<long>("akkacache.client.connections.opened", "{connection}", "Connections made to nodes.");
        _connectionsLost = _meter.CreateCounter<long>("akkacache.client.connections.lost", "{connection}", "Connections that failed or were refused.");
        _hotReads = _meter.CreateCounter<long>("akkacache.client.hot_reads", "{operation}", "Reads of promoted keys sent to any node rather than the key's owner.");
        _duration = _meter.CreateHistogram<double>("akkacache.client.operation.duration", "ms", "Call latency, redirects and retries included.");
    }

    public void Completed(string command, long startTimestamp, bool hit)
    {
        if (_operations.Enabled)
            _operations.Add(1, new KeyValuePair<string, object?>("command", command), new KeyValuePair<string, object?>("outcome", hit ? "ok" : "miss"));
        if (_duration.Enabled)
            _duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, new KeyValuePair<string, object?>("command", command));
    }

    public void HotRead()
    {
        if (_hotReads.Enabled) _hotReads.Add(1);
    }

    public void Failed(string command, Exception error)
    {
        if (_errors.Enabled)
            _errors.Add(1, new KeyValuePair<string, object?>("command", command), new KeyValuePair<string, object?>("error", error switch
            {
                AkkaCacheTimeoutException => "timeout",
                AkkaCacheConnectionException => "connection",
                AkkaCacheServerException => "server",
                OperationCanceledException => "cancelled",
                _ => "other",
            }));
    }

    public void Redirected(string kind, int slot, string endPoint)
    {
        _redirects.Add(1, new KeyValuePair<string, object?>("kind", kind));
        _logger.LogDebug("{Kind} slot {Slot} to {EndPoint}", kind, slot, endPoint);
    }

    public void Retried(string command, string reason)
    {
        _retries.Add(1, new KeyValuePair<string, object?>("reason", reason));
        _logger.LogDebug("Retrying {Command}: {Reason}", command, reason);
    }

    public void Connected(string endPoint)
    {
        _connects.Add(1);
        _logger.LogDebug("Connected to {EndPoint}", endPoint);
    }

    public void ConnectFailed(string endPoint, Exception error)
    {
        _connectionsLost.Add(1);
        _logger.LogWarning("Cannot connect to {EndPoint}: {Error}", endPoint, error.Message);
    }

    public void ConnectionLost(string endPoint, Exception error, int callsFailed)
    {
        _connectionsLost.Add(1);
        _logger.LogWarning("Connection to {EndPoint} lost ({Error}); {Calls} calls in flight failed", endPoint, error.Message, callsFailed);
    }

    public void TopologyLoaded(string source, int nodes, bool clustered, bool changed)
    {
        if (changed) _logger.LogInformation("Slot map from {Source}: {Nodes} primaries ({Mode})", source, nodes, clustered ? "cluster" : "standalone");
    }

    public void TopologyFailed(Exception error) => _logger.LogWarning("Reading the slot map failed: {Error}", error.Message);

    public void Dispose() => _meter.Dispose();
}
