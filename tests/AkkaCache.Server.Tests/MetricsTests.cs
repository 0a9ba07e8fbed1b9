using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using AkkaCache.Server.Diagnostics;
using AkkaCache.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCache.Server.Tests;

/// <summary>The AkkaCache.Server meter observed in-process with a MeterListener on a real node, and exported over OTLP.</summary>
public sealed class MetricsTests : ConnectedNodeTest
{
    /// <summary>Listens to one node's meter only (other tests' nodes in this process have meters of the same name).</summary>
    private sealed class NodeMeterListener : IDisposable
    {
        private readonly MeterListener _listener = new();
        public readonly ConcurrentQueue<(string Instrument, double Value, string? Command)> Measurements = new();

        public NodeMeterListener(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter)) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
        }

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? command = null;
            foreach (var tag in tags) if (tag.Key == ServerMetrics.CommandTag) command = (string?)tag.Value;
            Measurements.Enqueue((instrument.Name, value, command));
        }

        /// <summary>Reads every observable instrument now; returns instrument name (and command) to value.</summary>
        public Dictionary<string, double> Observe()
        {
            Measurements.Clear();
            _listener.RecordObservableInstruments();
            return Measurements.ToDictionary(m => m.Command is null ? m.Instrument : $"{m.Instrument}[{m.Command}]", m => m.Value);
        }

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task Observable_instruments_read_what_info_reports()
    {
        using var listener = new NodeMeterListener(Node.Node.Metrics.Meter);
        (await Send("SET", "a", "1")).AssertOk();
        (await Send("SET", "b", "2")).AssertOk();
        await Send("GET", "a");
        await Send("GET", "missing");
        await Send("GET", "missing");
        await using var second = await Node.ConnectAsync();
        await second.SendAsync("PING");

        var observed = listener.Observe();
        var info = ServerCommandConfigTests.Info(await Send("INFO", "all"));
        Assert.Equal(2, observed["akkacache.commands[set]"]);
        Assert.Equal(3, observed["akkacache.commands[get]"]);
        Assert.Equal(1, observed["akkacache.commands[ping]"]);
        Assert.False(observed.ContainsKey("akkacache.commands[del]"));
        // the same counters as INFO commandstats (commands run after the observation are INFO's own)
        var commandStats = ServerCommandConfigTests.Info(await Send("INFO", "commandstats"));
        Assert.StartsWith($"calls={observed["akkacache.commands[get]"]},", commandStats["cmdstat_get"]);
        Assert.StartsWith($"calls={observed["akkacache.commands[set]"]},", commandStats["cmdstat_set"]);
        Assert.Equal(double.Parse(info["keyspace_hits"]), observed["akkacache.keyspace.hits"]);
        Assert.Equal(2, observed["akkacache.keyspace.misses"]);
        Assert.Equal(double.Parse(info["keyspace_misses"]), observed["akkacache.keyspace.misses"]);
        Assert.Equal(0, observed["akkacache.keys.evicted"]);
        Assert.Equal(0, observed["akkacache.keys.expired"]);
        Assert.Equal(2, observed["akkacache.keys"]);
        Assert.Equal(double.Parse(info["used_memory"]), observed["akkacache.memory.used"]);
        Assert.Equal(2, observed["akkacache.clients.connected"]);
        Assert.Equal(0, observed["akkacache.hotkeys"]);
        // standalone: no replication, nothing moving
        Assert.False(observed.ContainsKey("akkacache.replication.lag"));
        Assert.False(observed.ContainsKey("akkacache.shards.migrating"));
    }

    [Fact]
    public async Task Expirations_and_evictions_are_counted()
    {
        using var listener = new NodeMeterListener(Node.Node.Metrics.Meter);
        (await Send("SET", "short", "1", "PX", "100")).AssertOk();
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await Send("GET", "short")).IsNull);
        Assert.Equal(1, listener.Observe()["akkacache.keys.expired"]);

        (await Send("CONFIG", "SET", "maxmemory", "1mb")).AssertOk();
        string value = new('v', 10_000);
        for (int i = 0; i < 300; i++) (await Send("SET", $"big{i}", value)).AssertOk();
        var observed = listener.Observe();
        Assert.True(observed["akkacache.keys.evicted"] > 0);
        Assert.Equal(double.Parse(ServerCommandConfigTests.Info(await Send("INFO", "stats"))["evicted_keys"]), observed["akkacache.keys.evicted"]);
    }

    [Fact]
    public async Task Command_duration_histogram_is_recorded_per_command_while_listened_to()
    {
        (await Send("SET", "before", "1")).AssertOk();   // nothing listens yet: not recorded
        using var listener = new NodeMeterListener(Node.Node.Metrics.Meter);
        Assert.True(Node.Node.Metrics.DurationEnabled);
        (await Send("SET", "k", "v")).AssertOk();
        await Send("GET", "k");
        await Send("GET", "k");
        var durations = listener.Measurements.Where(m => m.Instrument == "akkacache.command.duration").ToList();
        Assert.Equal(["get", "get", "set"], durations.Select(d => d.Command!).Order());
        Assert.All(durations, d => Assert.True(d.Value is >= 0 and < 60, $"{d.Value} s"));
    }

    [Fact]
    public async Task Otlp_exporter_sends_the_meter_to_a_collector()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = builder.Build();
        var received = new ConcurrentQueue<(string Path, string? ContentType, byte[] Body)>();
        collector.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            received.Enqueue((context.Request.Path, context.Request.ContentType, body.ToArray()));
            return Results.Ok();
        });
        await collector.StartAsync();
        var address = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        await using var node = await TestNode.StartAsync(o =>
        {
            o.OtlpEndpoint = address;
            o.OtlpProtocol = "http/protobuf";
            o.NodeId = "otlp-test-node";
        });
        await using (var client = await node.ConnectAsync()) (await client.SendAsync("SET", "k", "v")).AssertOk();
        // stopping the node flushes a last export, so the test need not wait for the export interval
        await node.DisposeAsync();

        await Poll.UntilAsync(() => received.Any(r => Encoding.UTF8.GetString(r.Body).Contains("otlp-test-node")), "an export from the node");
        var export = received.First(r => Encoding.UTF8.GetString(r.Body).Contains("otlp-test-node"));
        Assert.Equal("/v1/metrics", export.Path);
        Assert.Equal("application/x-protobuf", export.ContentType);
        string body = Encoding.UTF8.GetString(export.Body);
        Assert.Contains(ServerMetrics.MeterName, body);
        Assert.Contains("akkacache.commands", body);
        Assert.Contains("akkacache.memory.used", body);
    }
}

/// <summary>The node's logging: the factory given (an embedding host's) is used, every entry scoped with the node id.</summary>
public sealed class NodeLoggingTests
{
    private sealed class CapturingLoggerFactory : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        public readonly ConcurrentQueue<(string Message, List<object?> Scopes)> Entries = new();
        private readonly AsyncLocal<List<object?>> _scopes = new();
        public bool Disposed { get; private set; }

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;
        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) { }
        public void Dispose() => Disposed = true;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public IDisposable BeginScope<TState>(TState state) where TState : notnull
        {
            var outer = _scopes.Value;
            _scopes.Value = [.. outer ?? [], state];
            return new Restore(() => _scopes.Value = outer!);
        }

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((formatter(state, exception), [.. _scopes.Value ?? []]));

        private sealed class Restore(Action restore) : IDisposable
        {
            public void Dispose() => restore();
        }
    }

    [Fact]
    public async Task Entries_go_to_the_given_factory_in_a_scope_naming_the_node()
    {
        var factory = new CapturingLoggerFactory();
        var server = await NodeServer.StartAsync(new Configuration.NodeOptions { Port = 0, Shards = 8, NodeId = "logging-node" }, null, factory);
        try
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(server.LoggerFactory.CreateLogger("test"), "hello {Who}", "operator");
        }
        finally
        {
            await server.DisposeAsync();
        }
        var (message, scopes) = Assert.Single(factory.Entries);
        Assert.Equal("hello operator", message);
        var scope = Assert.Single(scopes);
        Assert.Equal("node logging-node", scope!.ToString());
        Assert.Equal(new KeyValuePair<string, object?>("NodeId", "logging-node"), Assert.Single((IEnumerable<KeyValuePair<string, object?>>)scope));
        // the host's factory is the host's to dispose
        Assert.False(factory.Disposed);
    }
}
