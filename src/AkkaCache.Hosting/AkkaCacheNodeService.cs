using Microsoft.Extensions.Hosting;

namespace AkkaCache.Hosting;

/// <summary>Ties the embedded node's life to the host's.</summary>
internal sealed class AkkaCacheNodeService(AkkaCacheNodeHost node) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => node.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => node.StopAsync(cancellationToken);
}
