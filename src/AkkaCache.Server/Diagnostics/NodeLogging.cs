using System.Collections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace AkkaCache.Server.Diagnostics;

/// <summary>
/// The node's loggers: those of the factory given (the host's, when embedded) or a console logger, each entry in a
/// scope naming the node, so every line says which node wrote it (several nodes share one process in tests and
/// embedding applications).
/// </summary>
internal sealed class NodeLoggerFactory(ILoggerFactory inner, bool ownsInner) : ILoggerFactory
{
    private volatile NodeScope _scope = new("starting");

    /// <summary>The node's name in every entry: its id, or its announced endpoint (known once it listens).</summary>
    public string NodeId
    {
        get => _scope.NodeId;
        set => _scope = new NodeScope(value);
    }

    /// <summary>The console logger the executable uses: one line per entry, UTC timestamps, the node's scope shown.</summary>
    public static ILoggerFactory CreateConsole() => LoggerFactory.Create(builder => builder.AddSimpleConsole(console =>
    {
        console.SingleLine = true;
        console.IncludeScopes = true;
        console.UseUtcTimestamp = true;
        console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        console.ColorBehavior = LoggerColorBehavior.Disabled;
    }));

    public ILogger CreateLogger(string categoryName) => new NodeLogger(inner.CreateLogger(categoryName), this);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // a factory the host gave is the host's to dispose; disposing the console one flushes its queue
        if (ownsInner) inner.Dispose();
    }

    private sealed class NodeLogger(ILogger inner, NodeLoggerFactory factory) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel)) return;
            using (inner.BeginScope(factory._scope)) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }

    /// <summary>Read as text ("node a-1") by console formatters and as the property NodeId by structured ones.</summary>
    private sealed class NodeScope(string nodeId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string NodeId { get; } = nodeId;

        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new("NodeId", NodeId) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => "node " + NodeId;
    }
}
