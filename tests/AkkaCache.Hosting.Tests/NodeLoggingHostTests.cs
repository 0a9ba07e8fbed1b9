using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Hosting.Tests;

/// <summary>An embedded node logs through the host's logging, not a console logger of its own.</summary>
public sealed class NodeLoggingHostTests
{
    [Fact]
    public async Task The_node_logs_to_the_hosts_providers_and_leaves_them_to_the_host()
    {
        await using var host = await TestHost.StartAsync();
        var server = host.Node.Server!;
        server.LoggerFactory.CreateLogger("AkkaCache.Test").LogWarning("written by the node {Port}", server.Port);
        Assert.True(host.Log.Contains($"written by the node {server.Port}", LogLevel.Warning), host.Log.Text);

        // stopping the node does not dispose the host's logging (a disposed LoggerFactory throws on CreateLogger)
        await host.Node.DisposeAsync();
        host.Host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("after").LogInformation("the host still logs");
        Assert.True(host.Log.Contains("the host still logs"));
    }
}
