using System.Diagnostics;
using AkkaCache.Server.Commands;
using AkkaCache.Server.Diagnostics;

namespace AkkaCache.Server.Network;

/// <summary>
/// Per-command statistics, SLOWLOG and the latency metric, fed by one Stopwatch timestamp pair per command. The counters
/// are this connection's own (no shared writes); the slow log and the histogram instrument are touched only when a
/// command is slow or something listens.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>Called after a command ran; <paramref name="started"/> is the Stopwatch timestamp taken before it, <paramref name="errorsBefore"/> the writer's error count then.</summary>
    private void OnExecuted(CommandDefinition command, in Request request, long started, long errorsBefore)
    {
        long elapsed = Stopwatch.GetTimestamp() - started;
        long microseconds = CommandCounters.Microseconds(elapsed);
        Info.CommandStats.Record(command, elapsed, microseconds, Writer.ErrorReplies != errorsBefore);
        if (_node.SlowLog.IsSlow(microseconds)) LogSlow(command, request, microseconds);
        if (_node.Metrics.DurationEnabled) _node.Metrics.RecordDuration(command, elapsed);
    }

    /// <summary>A command refused before it ran (arity, authentication, a redirection): Redis's rejected_calls.</summary>
    private void OnRejected(CommandDefinition command) => Info.CommandStats.Reject(command);

    private void LogSlow(CommandDefinition command, in Request request, long microseconds) =>
        _node.SlowLog.Add(command, request, _node.Time.GetUtcNow().ToUnixTimeSeconds(), microseconds, Info.Address, Info.Name);
}
