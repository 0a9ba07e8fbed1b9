using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AkkaCache.Client.Tests.Infrastructure;

/// <summary>Listens to the client's meter in-process, as dotnet-counters would, and sums each instrument by one tag.</summary>
public sealed class ClientMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new();

    public ClientMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "AkkaCache.Client") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            _totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value);
            foreach (var tag in tags)
                _totals.AddOrUpdate($"{instrument.Name}[{tag.Value}]", value, (_, total) => total + value);
        });
        _listener.SetMeasurementEventCallback<double>((instrument, _, _, _) => _totals.AddOrUpdate(instrument.Name, 1, (_, count) => count + 1));
        _listener.Start();
    }

    /// <summary>The sum of an instrument's measurements, or of those with a tag value: "akkacache.client.redirects[ASK]".</summary>
    public long this[string name] => _totals.TryGetValue(name, out long total) ? total : 0;

    public override string ToString() => string.Join(", ", _totals.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"));

    public void Dispose() => _listener.Dispose();
}
