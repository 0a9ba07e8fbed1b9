using System.Diagnostics.Metrics;
using AkkaCache.Client.Internal;
using AkkaCache.Client.Tests.Infrastructure;
using AkkaCache.Client.Transport;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AkkaCache.Client.Tests;

/// <summary>AddAkkaCacheClient and AddAkkaCacheDistributedCache in a real container, the clients they make used against a real node.</summary>
public sealed class DependencyInjectionTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private StandaloneNode _node = null!;

    public async Task InitializeAsync() => _node = await StandaloneNode.StartAsync(time: _clock);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();

    [Fact]
    public async Task Options_bind_from_configuration_timespans_and_booleans_included()
    {
        var configuration = Configuration(
            ("AkkaCache:Client:EndPoints", "10.0.0.1:7000,10.0.0.2:7000"),
            ("AkkaCache:Client:Password", "secret"),
            ("AkkaCache:Client:ConnectTimeout", "00:00:03"),
            ("AkkaCache:Client:OperationTimeout", "00:00:01.500"),
            ("AkkaCache:Client:TopologyRefreshInterval", "00:02:00"),
            ("AkkaCache:Client:ReadFromReplicas", "true"),
            ("AkkaCache:Client:ConnectionsPerNode", "3"),
            ("Elsewhere:ConnectionsPerNode", "9"));
        await using var provider = new ServiceCollection()
            .AddAkkaCacheClient(configuration, configure: o => o.MaxRedirects = 5)
            .BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<AkkaCacheClientOptions>>().Value;
        Assert.Equal("10.0.0.1:7000,10.0.0.2:7000", options.EndPoints);
        Assert.Equal("secret", options.Password);
        Assert.Equal(TimeSpan.FromSeconds(3), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.OperationTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.TopologyRefreshInterval);
        Assert.True(options.ReadFromReplicas);
        Assert.Equal(3, options.ConnectionsPerNode);
        Assert.Equal(5, options.MaxRedirects);
        // what configuration does not name keeps its default
        Assert.Equal(TimeSpan.FromMilliseconds(20), options.RetryDelay);
        Assert.Null(options.InProcessNode);
    }

    [Fact]
    public async Task Another_section_can_be_named()
    {
        var configuration = Configuration(("Caches:Sessions:EndPoints", "10.0.0.9:7000"), ("AkkaCache:Client:EndPoints", "10.0.0.1:7000"));
        await using var provider = new ServiceCollection().AddAkkaCacheClient(configuration, "Caches:Sessions").BuildServiceProvider();
        Assert.Equal("10.0.0.9:7000", provider.GetRequiredService<IOptions<AkkaCacheClientOptions>>().Value.EndPoints);
    }

    [Fact]
    public async Task Without_a_configuration_argument_the_containers_configuration_is_bound_then_the_code_applies()
    {
        var services = new ServiceCollection();
        services.AddSingleton(Configuration(("AkkaCache:Client:EndPoints", "10.0.0.1:7000"), ("AkkaCache:Client:ConnectionsPerNode", "4")));
        services.AddAkkaCacheClient(o => o.ConnectionsPerNode = 2);
        await using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<AkkaCacheClientOptions>>().Value;
        Assert.Equal("10.0.0.1:7000", options.EndPoints);
        Assert.Equal(2, options.ConnectionsPerNode);

        // and with no configuration registered at all, the defaults and the code
        await using var bare = new ServiceCollection().AddAkkaCacheClient(o => o.EndPoints = _node.EndPoint).BuildServiceProvider();
        Assert.Equal(_node.EndPoint, bare.GetRequiredService<IOptions<AkkaCacheClientOptions>>().Value.EndPoints);
        Assert.Equal(1, bare.GetRequiredService<IOptions<AkkaCacheClientOptions>>().Value.ConnectionsPerNode);
    }

    [Theory]
    [InlineData("ConnectionsPerNode", "0")]
    [InlineData("OperationTimeout", "-00:00:01")]
    [InlineData("ConnectTimeout", "00:00:00")]
    [InlineData("EndPoints", "no-port-here")]
    [InlineData("MaxRedirects", "0")]
    public async Task Invalid_options_fail_when_the_client_is_resolved_naming_the_option(string option, string value)
    {
        await using var provider = new ServiceCollection()
            .AddAkkaCacheClient(Configuration(("AkkaCache:Client:" + option, value)))
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<AkkaCacheClient>());
        Assert.Contains(option, error.Message);
        Assert.Contains(AkkaCacheClientOptions.SectionName, error.Message);
    }

    [Fact]
    public async Task Invalid_options_fail_the_host_at_start_naming_the_option()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([KeyValuePair.Create("AkkaCache:Client:OperationTimeout", (string?)"00:00:00")]);
        builder.Services.AddAkkaCacheClient();
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("OperationTimeout", error.Message);
    }

    [Fact]
    public async Task A_host_with_valid_options_starts_and_its_client_works_against_the_node()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([
            KeyValuePair.Create("AkkaCache:Client:EndPoints", (string?)_node.EndPoint),
            KeyValuePair.Create("AkkaCache:Client:OperationTimeout", (string?)"00:00:10"),
        ]);
        builder.Services.AddAkkaCacheClient();
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<AkkaCacheClient>();
        await client.SetAsync("hosted", "yes");
        Assert.Equal("yes", await client.GetStringAsync("hosted"));
        await host.StopAsync();
    }

    [Fact]
    public async Task The_resolved_client_is_one_lazy_singleton_that_works_and_is_disposed_with_the_container()
    {
        var provider = new ServiceCollection()
            .AddAkkaCacheClient(Configuration(("AkkaCache:Client:EndPoints", _node.EndPoint), ("AkkaCache:Client:OperationTimeout", "00:00:10")))
            .BuildServiceProvider();
        var client = provider.GetRequiredService<AkkaCacheClient>();
        Assert.Same(client, provider.GetRequiredService<AkkaCacheClient>());
        // nothing is read before the first call
        Assert.Empty(client.Primaries);

        await client.SetAsync("di", "works");
        Assert.Equal("works", await client.GetStringAsync("di"));
        Assert.Equal([_node.EndPoint], client.Primaries);

        await provider.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.GetAsync("di"));
    }

    [Fact]
    public async Task The_client_logs_and_measures_through_the_containers_factories()
    {
        var logs = new ListLoggerProvider();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(logs))
            .AddMetrics()
            .AddAkkaCacheClient(o => o.EndPoints = _node.EndPoint);
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();

        long operations = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ClientDiagnostics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "akkacache.client.operations") Interlocked.Add(ref operations, value);
        });
        listener.Start();

        var client = provider.GetRequiredService<AkkaCacheClient>();
        await client.SetAsync("measured", "v");
        await client.GetAsync("measured");

        Assert.True(Interlocked.Read(ref operations) >= 2, $"operations counted through the container's meter factory: {operations}");
        Assert.Contains(logs.Messages, m => m.Contains(_node.EndPoint) && m.Contains("standalone"));
    }

    [Fact]
    public async Task An_in_process_node_registered_in_the_container_is_used_by_the_client()
    {
        var local = new CountingInProcessNode(_node.EndPoint);
        var services = new ServiceCollection()
            .AddSingleton<IInProcessNode>(local)
            .AddAkkaCacheClient(o => o.EndPoints = _node.EndPoint);
        await using var provider = services.BuildServiceProvider();

        Assert.Same(local, provider.GetRequiredService<IOptions<AkkaCacheClientOptions>>().Value.InProcessNode);
        var client = provider.GetRequiredService<AkkaCacheClient>();
        await client.SetAsync("local", "through the embedded node");
        Assert.Equal("through the embedded node", await client.GetStringAsync("local"));
        Assert.Equal(1, local.Connects);
    }

    [Fact]
    public async Task An_in_process_node_set_in_the_options_is_not_replaced_by_the_registered_one()
    {
        var registered = new CountingInProcessNode(_node.EndPoint);
        var chosen = new CountingInProcessNode(_node.EndPoint);
        await using var provider = new ServiceCollection()
            .AddSingleton<IInProcessNode>(registered)
            .AddAkkaCacheClient(o =>
            {
                o.EndPoints = _node.EndPoint;
                o.InProcessNode = chosen;
            })
            .BuildServiceProvider();
        var client = provider.GetRequiredService<AkkaCacheClient>();
        await client.PingAsync();
        Assert.Equal(1, chosen.Connects);
        Assert.Equal(0, registered.Connects);
    }

    [Fact]
    public async Task The_distributed_cache_uses_the_registered_client_instance_name_and_clock()
    {
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_clock)
            .AddAkkaCacheClient(o => o.EndPoints = _node.EndPoint)
            .AddAkkaCacheDistributedCache(o => o.InstanceName = "shop:");
        await using var provider = services.BuildServiceProvider();

        var cache = provider.GetRequiredService<IDistributedCache>();
        var concrete = Assert.IsType<AkkaCacheDistributedCache>(cache);
        Assert.Same(concrete, provider.GetRequiredService<AkkaCacheDistributedCache>());
        Assert.IsAssignableFrom<IBufferDistributedCache>(cache);
        Assert.Same(provider.GetRequiredService<AkkaCacheClient>(), concrete.Client);
        Assert.Equal("shop:", concrete.InstanceName);

        await cache.SetStringAsync("cart:7", "3 items", new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });
        Assert.Equal("3 items", await cache.GetStringAsync("cart:7"));
        await using (var raw = await _node.ConnectAsync())
            Assert.Equal(300_000, (await raw.SendAsync("PTTL", "shop:cart:7")).Integer);

        // the container's clock is the cache's: advancing it (and the node's) expires the entry
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(await cache.GetStringAsync("cart:7"));
    }

    [Fact]
    public async Task The_distributed_cache_replaces_an_earlier_registration()
    {
        var services = new ServiceCollection()
            .AddSingleton<IDistributedCache, NoCache>()
            .AddAkkaCacheClient(o => o.EndPoints = _node.EndPoint)
            .AddAkkaCacheDistributedCache(_ => { });
        await using var provider = services.BuildServiceProvider();
        Assert.IsType<AkkaCacheDistributedCache>(provider.GetRequiredService<IDistributedCache>());
    }

    [Fact]
    public async Task With_a_configuration_string_the_distributed_cache_has_a_client_of_its_own()
    {
        var local = new CountingInProcessNode(_node.EndPoint);
        var services = new ServiceCollection()
            .AddSingleton<IInProcessNode>(local)
            .AddAkkaCacheDistributedCache(o => o.Configuration = $"{_node.EndPoint},timeout=10000");
        var provider = services.BuildServiceProvider();
        Assert.Null(provider.GetService<AkkaCacheClient>());

        var cache = provider.GetRequiredService<IDistributedCache>();
        var client = ((AkkaCacheDistributedCache)cache).Client;
        cache.SetString("own", "client");
        Assert.Equal("client", cache.GetString("own"));
        Assert.Equal(1, local.Connects);

        await provider.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.GetAsync("own"));
    }

    [Fact]
    public async Task The_distributed_cache_without_a_client_or_a_configuration_string_says_what_is_missing()
    {
        await using var provider = new ServiceCollection().AddAkkaCacheDistributedCache(_ => { }).BuildServiceProvider();
        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IDistributedCache>());
        Assert.Contains("AddAkkaCacheClient", error.Message);
    }

    [Fact]
    public async Task A_bad_configuration_string_fails_at_resolve_and_at_start()
    {
        await using var provider = new ServiceCollection()
            .AddAkkaCacheDistributedCache(o => o.Configuration = "127.0.0.1:7000,colour=blue")
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IDistributedCache>());
        Assert.Contains("colour", error.Message);

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddAkkaCacheDistributedCache(o => o.Configuration = "127.0.0.1:7000,timeout=soon");
        using var host = builder.Build();
        Assert.Contains("timeout", (await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync())).Message);
    }

    private sealed class NoCache : IDistributedCache
    {
        public byte[]? Get(string key) => null;
        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult<byte[]?>(null);
        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) { }
        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => Task.CompletedTask;
        public void Refresh(string key) { }
        public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;
        public void Remove(string key) { }
        public Task RemoveAsync(string key, CancellationToken token = default) => Task.CompletedTask;
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages) return [.. _messages];
            }
        }

        public ILogger CreateLogger(string categoryName) => new ListLogger(this);

        public void Dispose() { }

        private sealed class ListLogger(ListLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._messages) owner._messages.Add(formatter(state, exception));
            }
        }
    }
}
