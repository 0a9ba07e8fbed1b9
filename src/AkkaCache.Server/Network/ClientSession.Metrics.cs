using AkkaCache.Server.Commands;

namespace AkkaCache.Server.Network;

/// <summary>
/// Per-command statistics, SLOWLOG and the latency metric, fed by one Stopwatch timestamp pair per command. The counters
/// are this connection's own (no shared writes); the slow log and the histogram instrument are touched only when a
/// command is slow or something listens.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>Called after a command ran; <paramref name="started"/> is the Stopwatch timestamp taken before it, <paramref name="errorsBefore"/> the writer's error count then.</summary>
    private void OnExecuted(CommandDefinition command, in Request request, long started, long errorsBefore) =>
        _node.Metrics.OnExecuted(Info, command, request, started, failed: Writer.ErrorReplies != errorsBefore);

    /// <summary>A command refused before it ran (arity, authentication, a redirection): Redis's rejected_calls.</summary>
    private void OnRejected(CommandDefinition command) => Info.CommandStats.Reject(command);
}
