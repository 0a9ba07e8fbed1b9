using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaCache.Cluster.Membership;

/// <summary>Hands the node's logger factory to the actor system it starts (read by <see cref="AkkaLogBridge"/>).</summary>
public sealed class LoggerFactorySetup(ILoggerFactory factory) : Setup
{
    public ILoggerFactory Factory { get; } = factory;
}

/// <summary>
/// Akka's logger (<c>akka.loggers</c>): Akka's own lines (membership changes, the resolver's decisions, remoting)
/// go through the node's Microsoft.Extensions.Logging factory like every other diagnostic, so they carry the node id
/// and reach the host's providers, under categories <c>Akka.*</c>.
/// </summary>
public sealed class AkkaLogBridge : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly Dictionary<Type, ILogger> _loggers = [];

    public AkkaLogBridge()
    {
        var setup = Context.System.Settings.Setup.Get<LoggerFactorySetup>();
        var factory = setup.HasValue ? setup.Value.Factory : NullLoggerFactory.Instance;
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            var type = e.LogClass ?? typeof(AkkaLogBridge);
            if (!_loggers.TryGetValue(type, out var logger)) _loggers[type] = logger = factory.CreateLogger("Akka." + type.Name);
            var level = e.LogLevel() switch
            {
                Akka.Event.LogLevel.DebugLevel => Microsoft.Extensions.Logging.LogLevel.Debug,
                Akka.Event.LogLevel.InfoLevel => Microsoft.Extensions.Logging.LogLevel.Information,
                Akka.Event.LogLevel.WarningLevel => Microsoft.Extensions.Logging.LogLevel.Warning,
                _ => Microsoft.Extensions.Logging.LogLevel.Error,
            };
            if (!logger.IsEnabled(level)) return;
#pragma warning disable CA2254 // Akka formats its own message
            logger.Log(level, e.Cause, "{Source}: {Message}", e.LogSource, e.Message?.ToString());
#pragma warning restore CA2254
        });
    }
}
