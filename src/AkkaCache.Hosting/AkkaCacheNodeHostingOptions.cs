namespace AkkaCache.Hosting;

/// <summary>How the host runs its embedded node (the node's own settings are <see cref="AkkaCache.Server.Configuration.NodeOptions"/>).</summary>
public sealed class AkkaCacheNodeHostingOptions
{
    /// <summary>
    /// Longest a cluster node spends handing its shards to the others when the host stops. The host's shutdown timeout
    /// (<c>HostOptions.ShutdownTimeout</c>, 30 s by default) bounds it too: raise that for nodes holding much data.
    /// </summary>
    public TimeSpan LeaveTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Stop the application when the node leaves its cluster on its own (CLUSTER LEAVE, <c>akkacache cluster leave</c>),
    /// as the akkacache-server executable exits then. When false, the application runs on without its node.
    /// </summary>
    public bool StopApplicationOnClusterLeave { get; set; } = true;
}
