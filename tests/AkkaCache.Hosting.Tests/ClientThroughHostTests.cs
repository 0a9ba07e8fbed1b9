using AkkaCache.Client;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaCache.Hosting.Tests;

/// <summary>The application's own AkkaCache client reaching the embedded node in process, as the two registrations wire it.</summary>
public sealed class ClientThroughHostTests
{
    [Fact]
    public async Task The_apps_client_talks_to_the_embedded_node_in_process()
    {
        // the client needs the node's endpoint up front, so a fixed free port instead of 0
        int port = NodeProcess.FreePort();
        await using var host = await TestHost.StartAsync(
            new Dictionary<string, string?> { ["Port"] = port.ToString(), ["Client:EndPoints"] = $"127.0.0.1:{port}" },
            b => b.Services.AddAkkaCacheClient());
        var client = host.Host.Services.GetRequiredService<AkkaCacheClient>();

        await client.SetAsync("greeting", "hello");
        Assert.Equal("hello", await client.GetStringAsync("greeting"));
        Assert.Equal(3, await client.IncrementAsync("counter", 3));

        // every connection the client opened is an in-process one: CLIENT LIST from a socket shows them as inproc
        await using var observer = await RespTestClient.ConnectAsync(port);
        long self = (await observer.SendAsync("CLIENT", "ID")).Int();
        var lines = (await observer.SendAsync("CLIENT", "LIST")).Text().TrimEnd('\n').Split('\n');
        var others = lines.Where(l => !l.StartsWith($"id={self} ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(others);
        Assert.All(others, line => Assert.Contains(" addr=inproc:", line));
        Assert.Equal("hello", (await observer.SendAsync("GET", "greeting")).Text());
    }

    [Fact]
    public async Task The_distributed_cache_of_the_app_is_served_by_the_embedded_node()
    {
        int port = NodeProcess.FreePort();
        await using var host = await TestHost.StartAsync(
            new Dictionary<string, string?> { ["Port"] = port.ToString() },
            b =>
            {
                b.Services.AddAkkaCacheClient(o => o.EndPoints = $"127.0.0.1:{port}");
                b.Services.AddAkkaCacheDistributedCache(_ => { });
            });
        var cache = host.Host.Services.GetRequiredService<IDistributedCache>();
        await cache.SetStringAsync("session:1", "state", new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });
        Assert.Equal("state", await cache.GetStringAsync("session:1"));
        Assert.True(host.Node.GetStatus()!.Keys >= 1);
    }
}
