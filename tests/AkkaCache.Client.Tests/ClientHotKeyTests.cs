using System.Globalization;
using AkkaCache.Client.Tests.Infrastructure;

namespace AkkaCache.Client.Tests;

/// <summary>The client learns which keys the cluster promoted and spreads their reads over every node, on real node processes.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClientHotKeyTests
{
    private const string Key = "hot:{catalog}";

    private static async Task<long> HotReadsServedAsync(NodeProcess node) =>
        long.Parse(TestCluster.Field(await TestCluster.TextAsync(node, "INFO", "stats"), "hotkeys_local_reads")!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Reads_of_a_promoted_key_are_spread_over_every_node_and_see_each_acknowledged_write()
    {
        using var metrics = new ClientMetrics();
        await using var cluster = await TestCluster.StartAsync(3, "--shards", "64", "--hotkey-min-rate", "100", "--hotkey-window", "500");
        await using var cache = await AkkaCacheClient.ConnectAsync(
            string.Join(",", cluster.Nodes.Select(n => $"127.0.0.1:{n.Port}")) + ",hotKeyRefreshInterval=200");
        await cache.SetAsync(Key, "v0");

        // the client's own reads make the key hot; once promoted, the client learns it and sends reads anywhere
        await Poll.UntilAsync(async () =>
        {
            for (int i = 0; i < 200; i++) Assert.Equal("v0", await cache.GetStringAsync(Key));
            return metrics["akkacache.client.hot_reads"] >= 200;
        }, "reads of the promoted key spread over the nodes");

        long before = metrics["akkacache.client.redirects"];
        for (int i = 0; i < 300; i++) Assert.Equal("v0", await cache.GetStringAsync(Key));
        // every node answered some of them itself (two of them from their copies), and none was redirected
        int servedByCopies = 0;
        foreach (var node in cluster.Nodes)
            if (await HotReadsServedAsync(node) > 0) servedByCopies++;
        Assert.Equal(2, servedByCopies);
        Assert.Equal(before, metrics["akkacache.client.redirects"]);

        // a write is acknowledged only once every copy has it, so the next read, wherever it goes, sees it
        for (int i = 1; i <= 20; i++)
        {
            string value = "v" + i.ToString(CultureInfo.InvariantCulture);
            await cache.SetAsync(Key, value);
            for (int read = 0; read < 6; read++) Assert.Equal(value, await cache.GetStringAsync(Key));
        }
    }
}
