using AkkaCache.Client;
using AkkaCache.Client.Transport;
using AkkaCache.Server.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AkkaCache.Hosting;

public static class AkkaCacheHostingExtensions
{
    /// <summary>
    /// Runs an AkkaCache node in this application, started and stopped with the host. <paramref name="section"/> has the
    /// schema of the server's <c>AkkaCache</c> section (<c>Port</c>, <c>Bind</c>, <c>MaxMemory</c>, <c>ClusterEnabled</c>,
    /// <c>SeedNodes</c>, ...); an unknown key or a bad value fails the host's start, naming the setting.
    /// Registers <see cref="AkkaCacheNodeHost"/> and <see cref="IInProcessNode"/>, through which this application's
    /// client reaches the node without the network.
    /// </summary>
    public static IServiceCollection AddAkkaCacheNode(this IServiceCollection services, IConfigurationSection section, Action<NodeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        // bound when the host starts, not here: a mistake then fails the start with the setting named
        var options = services.AddOptions<NodeOptions>().Configure(o => Bind(section, o));
        if (configure is not null) options.Configure(configure);
        return AddCore(services);
    }

    /// <summary>
    /// Binds as the server does, where an unknown key is an error (a typo would silently leave a default), and says
    /// which key. The client's own section (<c>AkkaCache:Client</c>) lives inside the node's and is not a node setting.
    /// </summary>
    private static void Bind(IConfigurationSection section, NodeOptions options)
    {
        var settings = typeof(NodeOptions).GetProperties()
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic)
            .Select(p => p.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = section.GetChildren()
            .Where(child => !settings.Contains(child.Key) && !IsClientSection(child))
            .Select(child => child.Key)
            .ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"Unknown setting{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(key => $"'{section.Path}:{key}'"))}; " +
                $"the settings are {string.Join(", ", settings.Order(StringComparer.Ordinal))}.");
        }
        // every key left is a property of the flat NodeOptions: the check above is the binder's ErrorOnUnknownConfiguration
        section.Bind(options);
    }

    private static bool IsClientSection(IConfigurationSection child) =>
        string.Equals(child.Path, AkkaCacheClientOptions.SectionName, StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs an AkkaCache node in this application, configured in code (see the other overload).</summary>
    public static IServiceCollection AddAkkaCacheNode(this IServiceCollection services, Action<NodeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<NodeOptions>().Configure(configure);
        return AddCore(services);
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddOptions<AkkaCacheNodeHostingOptions>();
        services.TryAddSingleton<AkkaCacheNodeHost>();
        services.TryAddSingleton<IInProcessNode>(provider => provider.GetRequiredService<AkkaCacheNodeHost>());
        services.AddHostedService<AkkaCacheNodeService>();
        return services;
    }

    /// <summary>
    /// A health check of the embedded node: Healthy while it serves (cluster: a map covering every slot and a valid
    /// lease), Degraded while it leaves or slots lack a primary, <paramref name="failureStatus"/> (Unhealthy) when it is
    /// not running, has no map or is fenced. Data: endpoint, port, clustered, keys, clients, and in a cluster the node id,
    /// epoch, shards led and replicated, lease.
    /// </summary>
    public static IHealthChecksBuilder AddAkkaCacheNode(
        this IHealthChecksBuilder builder,
        string name = "akkacache-node",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            provider => new AkkaCacheNodeHealthCheck(provider.GetService<AkkaCacheNodeHost>()),
            failureStatus,
            tags,
            timeout));
    }
}
