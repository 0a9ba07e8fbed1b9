using System.Diagnostics.Metrics;
using AkkaCache.Client;
using AkkaCache.Client.Transport;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// the namespace of IServiceCollection, as is usual for Add... extensions, so they show without a using
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the AkkaCache client and its <see cref="IDistributedCache"/> with dependency injection.</summary>
public static class AkkaCacheServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="AkkaCacheClient"/> as a singleton that connects on its first call and is disposed with the
    /// container. Options come from the section <see cref="AkkaCacheClientOptions.SectionName"/> of the container's
    /// <see cref="IConfiguration"/> when one is registered (as in any Generic Host), then from <paramref name="configure"/>.
    /// They are validated when the host starts, or else when the client is first resolved.
    /// An <see cref="IInProcessNode"/> in the container is used for the node embedded in this process unless the options name one.
    /// </summary>
    public static IServiceCollection AddAkkaCacheClient(this IServiceCollection services, Action<AkkaCacheClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = AddClientServices(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<AkkaCacheClientOptions>, BindFromRegisteredConfiguration>());
        if (configure is not null) options.Configure(configure);
        return services;
    }

    /// <summary>
    /// Registers <see cref="AkkaCacheClient"/> like <see cref="AddAkkaCacheClient(IServiceCollection, Action{AkkaCacheClientOptions}?)"/>,
    /// with options bound from <paramref name="sectionName"/> of <paramref name="configuration"/> (TimeSpans as "00:00:05"),
    /// then from <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddAkkaCacheClient(this IServiceCollection services, IConfiguration configuration,
        string sectionName = AkkaCacheClientOptions.SectionName, Action<AkkaCacheClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(sectionName);
        var options = AddClientServices(services);
        options.Bind(configuration.GetSection(sectionName));
        if (configure is not null) options.Configure(configure);
        return services;
    }

    /// <summary>
    /// Registers <see cref="AkkaCacheDistributedCache"/> as the <see cref="IDistributedCache"/> (also an
    /// <see cref="IBufferDistributedCache"/> for HybridCache). It uses the registered <see cref="AkkaCacheClient"/>, or a
    /// client of its own when <see cref="AkkaCacheDistributedCacheOptions.Configuration"/> is set. Expirations are
    /// computed with the container's <see cref="TimeProvider"/> when one is registered.
    /// </summary>
    public static IServiceCollection AddAkkaCacheDistributedCache(this IServiceCollection services, Action<AkkaCacheDistributedCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<AkkaCacheDistributedCacheOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AkkaCacheDistributedCacheOptions>, DistributedCacheOptionsValidator>());
        services.TryAddSingleton(CreateDistributedCache);
        // added, not tried: like AddStackExchangeRedisCache, this replaces a memory cache registered before
        services.AddSingleton<IDistributedCache>(static provider => provider.GetRequiredService<AkkaCacheDistributedCache>());
        return services;
    }

    private static OptionsBuilder<AkkaCacheClientOptions> AddClientServices(IServiceCollection services)
    {
        var options = services.AddOptions<AkkaCacheClientOptions>();
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AkkaCacheClientOptions>, ClientOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<AkkaCacheClientOptions>, UseRegisteredInProcessNode>());
        services.TryAddSingleton(static provider => AkkaCacheClient.Create(
            provider.GetRequiredService<IOptions<AkkaCacheClientOptions>>().Value,
            provider.GetService<ILoggerFactory>(),
            provider.GetService<IMeterFactory>()));
        return options;
    }

    private static AkkaCacheDistributedCache CreateDistributedCache(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<AkkaCacheDistributedCacheOptions>>().Value;
        var time = provider.GetService<TimeProvider>();
        if (options.Configuration is null)
        {
            var shared = provider.GetService<AkkaCacheClient>() ?? throw new InvalidOperationException(
                "AddAkkaCacheDistributedCache: no AkkaCacheClient is registered. Call AddAkkaCacheClient, or set AkkaCacheDistributedCacheOptions.Configuration.");
            return new AkkaCacheDistributedCache(shared, ownsClient: false, options.InstanceName, time);
        }
        var clientOptions = AkkaCacheClientOptions.Parse(options.Configuration);
        clientOptions.InProcessNode ??= provider.GetService<IInProcessNode>();
        var client = AkkaCacheClient.Create(clientOptions, provider.GetService<ILoggerFactory>(), provider.GetService<IMeterFactory>());
        return new AkkaCacheDistributedCache(client, ownsClient: true, options.InstanceName, time);
    }

    /// <summary>Binds <see cref="AkkaCacheClientOptions.SectionName"/> of the container's configuration, when it has one.</summary>
    private sealed class BindFromRegisteredConfiguration(IServiceProvider provider) : IConfigureOptions<AkkaCacheClientOptions>
    {
        public void Configure(AkkaCacheClientOptions options)
        {
            if (provider.GetService<IConfiguration>() is { } configuration)
                configuration.GetSection(AkkaCacheClientOptions.SectionName).Bind(options);
        }
    }

    private sealed class UseRegisteredInProcessNode(IServiceProvider provider) : IPostConfigureOptions<AkkaCacheClientOptions>
    {
        public void PostConfigure(string? name, AkkaCacheClientOptions options) =>
            options.InProcessNode ??= provider.GetService<IInProcessNode>();
    }

    private sealed class ClientOptionsValidator : IValidateOptions<AkkaCacheClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, AkkaCacheClientOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException error)
            {
                return ValidateOptionsResult.Fail($"AkkaCache client options ({AkkaCacheClientOptions.SectionName}): {error.Message}");
            }
        }
    }

    private sealed class DistributedCacheOptionsValidator : IValidateOptions<AkkaCacheDistributedCacheOptions>
    {
        public ValidateOptionsResult Validate(string? name, AkkaCacheDistributedCacheOptions options)
        {
            if (options.Configuration is null) return ValidateOptionsResult.Success;
            try
            {
                AkkaCacheClientOptions.Parse(options.Configuration);
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException error)
            {
                return ValidateOptionsResult.Fail($"AkkaCacheDistributedCacheOptions.Configuration: {error.Message}");
            }
        }
    }
}
