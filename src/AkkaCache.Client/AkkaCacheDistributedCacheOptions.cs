namespace AkkaCache.Client;

/// <summary>Settings of <see cref="AkkaCacheDistributedCache"/> as dependency injection registers it.</summary>
public sealed class AkkaCacheDistributedCacheOptions
{
    /// <summary>
    /// A client configuration string (see <see cref="AkkaCacheClientOptions.Parse"/>) for a client of the cache's own.
    /// When null, the <see cref="AkkaCacheClient"/> registered by <c>AddAkkaCacheClient</c> is used.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// Put before every key the cache stores (as with Microsoft's Redis cache), so that several applications or several
    /// caches can share the nodes without their keys meeting. Null or empty: no prefix.
    /// </summary>
    public string? InstanceName { get; set; }
}
