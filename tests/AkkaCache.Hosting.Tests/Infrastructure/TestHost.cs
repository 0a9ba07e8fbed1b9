using System.Collections.Concurrent;
using AkkaCache.Client.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Hosting.Tests.Infrastructure;

/// <summary>A real Generic Host embedding a node, configured from in-memory settings, its log kept for assertions.</summary>
public sealed class TestHost : IAsyncDisposable
{
    private TestHost(IHost host, TestLog log)
    {
        Host = host;
        Log = log;
    }

    public IHost Host { get; }
    public TestLog Log { get; }
    public AkkaCacheNodeHost Node => Host.Services.GetRequiredService<AkkaCacheNodeHost>();
    public IInProcessNode InProcess => Host.Services.GetRequiredService<IInProcessNode>();
    public int Port => Node.Server?.Port ?? throw new InvalidOperationException("the node is not running");

    /// <summary>
    /// A host whose node reads section AkkaCache: <c>Port</c> 0 and <c>Shards</c> 64 unless <paramref name="settings"/>
    /// (keys relative to the section) say otherwise; <paramref name="services"/> may register more or register the node itself.
    /// </summary>
    public static TestHost Build(IDictionary<string, string?>? settings = null, Action<HostApplicationBuilder>? services = null, bool addNode = true)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = "Test" });
        var values = new Dictionary<string, string?> { ["AkkaCache:Port"] = "0", ["AkkaCache:Shards"] = "64" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) values["AkkaCache:" + key] = value;
        builder.Configuration.AddInMemoryCollection(values);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        var log = new TestLog();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        if (addNode) builder.Services.AddAkkaCacheNode(builder.Configuration.GetSection("AkkaCache"));
        builder.Services.AddHealthChecks().AddAkkaCacheNode();
        services?.Invoke(builder);
        return new TestHost(builder.Build(), log);
    }

    public static async Task<TestHost> StartAsync(IDictionary<string, string?>? settings = null, Action<HostApplicationBuilder>? services = null)
    {
        var host = Build(settings, services);
        try
        {
            await host.Host.StartAsync();
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    public Task<HealthReport> HealthAsync() => Host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    public async Task<HealthReportEntry> NodeHealthAsync() => (await HealthAsync()).Entries["akkacache-node"];

    public async Task<StreamRespClient> ConnectInProcessAsync()
    {
        var transport = await InProcess.ConnectAsync(CancellationToken.None);
        return new StreamRespClient(transport.SendAsync, transport.ReceiveAsync, transport.DisposeAsync);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await Host.StopAsync(timeout.Token);
        }
        finally
        {
            if (Host is IAsyncDisposable disposable) await disposable.DisposeAsync();
            else Host.Dispose();
        }
    }
}

/// <summary>Keeps every log line of the host, for tests that check the node's lifecycle is logged.</summary>
public sealed class TestLog : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(string Category, LogLevel Level, string Message)> Entries => [.. _entries];

    public bool Contains(string text, LogLevel? level = null) =>
        _entries.Any(e => e.Message.Contains(text, StringComparison.Ordinal) && (level is null || e.Level == level));

    public string Text => string.Join('\n', _entries.Select(e => $"{e.Level} {e.Category}: {e.Message}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TestLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log._entries.Enqueue((category, logLevel, formatter(state, exception)));
    }
}
