using AkkaCache.Server;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AkkaCache.Hosting;

/// <summary>
/// Healthy while the embedded node serves: standalone, while it runs; in a cluster, while it follows a shard map that
/// covers every slot and holds a lease it can vouch for. Degraded while it stops or leaves, or while slots lack a primary; the
/// registration's failure status (Unhealthy by default) when it is not running, has no map, or is fenced.
/// </summary>
internal sealed class AkkaCacheNodeHealthCheck(AkkaCacheNodeHost? node) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check(context.Registration.FailureStatus));

    private HealthCheckResult Check(HealthStatus failure)
    {
        if (node is null) return new HealthCheckResult(failure, "No AkkaCache node is registered (services.AddAkkaCacheNode).");
        var state = node.State;
        if (node.GetStatus() is not { } status)
        {
            string why = state switch
            {
                AkkaCacheNodeState.NotStarted or AkkaCacheNodeState.Starting => "has not started yet",
                AkkaCacheNodeState.Failed => "failed to start",
                _ => "is stopped",
            };
            var exception = state == AkkaCacheNodeState.Failed ? node.Started.Exception?.InnerException : null;
            return new HealthCheckResult(failure, $"The AkkaCache node {why}.", exception, new Dictionary<string, object> { ["state"] = state.ToString() });
        }

        var data = Data(status);
        if (state == AkkaCacheNodeState.Stopping)
        {
            return HealthCheckResult.Degraded(status.IsClustered
                ? $"The AkkaCache node is stopping: node {status.NodeId} is leaving cluster {status.ClusterName}."
                : "The AkkaCache node is stopping.", data: data);
        }
        if (!status.IsClustered)
            return HealthCheckResult.Healthy($"Serving on {status.EndPoint}.", data);
        if (!status.HasTopology)
            return new HealthCheckResult(failure, $"No shard map loaded: node {status.NodeId} is joining cluster {status.ClusterName} (or rejoining as a new member after being downed).", data: data);
        if (!status.LeaseValid)
            return new HealthCheckResult(failure, $"Node {status.NodeId} has no quorum lease (no majority of the members vouched for it lately): it refuses keyed requests until one does (fenced).", data: data);
        if (status.IsLeaving)
            return HealthCheckResult.Degraded($"Node {status.NodeId} is leaving cluster {status.ClusterName}.", data: data);
        if (!status.AllSlotsAssigned)
            return HealthCheckResult.Degraded($"Cluster {status.ClusterName} has slots without a primary (cluster_state:fail).", data: data);
        return HealthCheckResult.Healthy($"Serving on {status.EndPoint} in cluster {status.ClusterName}: {status.ShardsLed} shards led, {status.ShardsReplicated} replicated, epoch {status.Epoch}.", data);
    }

    private static Dictionary<string, object> Data(NodeStatus status)
    {
        var data = new Dictionary<string, object>
        {
            ["endpoint"] = status.EndPoint,
            ["port"] = status.Port,
            ["clustered"] = status.IsClustered,
            ["keys"] = status.Keys,
            ["clients"] = status.Clients,
        };
        if (!status.IsClustered) return data;
        data["cluster"] = status.ClusterName ?? "";
        data["nodeId"] = status.NodeId ?? "";
        data["epoch"] = status.Epoch;
        data["shardsLed"] = status.ShardsLed;
        data["shardsReplicated"] = status.ShardsReplicated;
        data["leaseValid"] = status.LeaseValid;
        data["leaseRemainingMs"] = (long)status.LeaseRemaining.TotalMilliseconds;
        data["leader"] = status.IsLeader;
        data["leaving"] = status.IsLeaving;
        return data;
    }
}
