using System.Globalization;
using AkkaCache.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Hosting.Tests;

/// <summary>Tests that start real node processes: one at a time, so two cores are not shared by several clusters.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterProcesses
{
    public const string Name = "cluster processes";
}

/// <summary>A node embedded in a Generic Host as a member of a cluster of akkacache-server processes.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class EmbeddedClusterNodeTests
{
    /// <summary>The embedded node's settings as a member of <paramref name="cluster"/>, without replicas (so only a hand-off keeps its keys).</summary>
    private static Dictionary<string, string?> MemberOf(TestCluster cluster) => new()
    {
        ["ClusterEnabled"] = "yes",
        ["SeedNodes"] = cluster.SeedNodes,
        ["ClusterName"] = cluster.Name,
        ["NodeId"] = "embedded",
        ["Replicas"] = "0",
    };

    [Fact]
    public async Task An_embedded_node_joins_serves_in_process_and_hands_its_shards_off_when_the_host_stops()
    {
        // no replicas: a key of a shard the embedded node leads survives its leaving only if the shard is handed off
        await using var cluster = await TestCluster.StartAsync(1, "--shards", "64", "--replicas", "0");
        var process = cluster.Nodes[0];
        var host = TestHost.Build(MemberOf(cluster), b => b.Services.AddAkkaCacheClient(o => o.EndPoints = $"127.0.0.1:{process.Port}"));
        try
        {
            await host.Host.StartAsync();
            Assert.True(host.Log.Contains($"AkkaCache node joined cluster {cluster.Name} as embedded", LogLevel.Information), host.Log.Text);
            string endPoint = $"127.0.0.1:{host.Port}";
            Assert.Equal(endPoint, host.InProcess.EndPoint);

            await Poll.UntilAsync(async () =>
            {
                var health = await host.NodeHealthAsync();
                var info = await TestCluster.InfoAsync(process);
                return health.Status == HealthStatus.Healthy && (int)health.Data["shardsLed"] > 0
                    && TestCluster.Field(info, "cluster_known_nodes") == "2" && TestCluster.Field(info, "cluster_shards_migrating") == "0"
                    && TestCluster.Field(info, "cluster_state") == "ok";
            }, "the embedded node leading shards in a settled two-node cluster", TimeSpan.FromSeconds(90));
            var healthy = await host.NodeHealthAsync();
            Assert.Equal(cluster.Name, healthy.Data["cluster"]);
            Assert.Equal("embedded", healthy.Data["nodeId"]);
            Assert.Equal(true, healthy.Data["leaseValid"]);

            const int count = 1000;
            await using (var writer = new RedirectingClient(cluster))
            {
                for (int i = 0; i < count; i++) (await writer.SendAsync("SET", $"key:{i}", $"value:{i}")).AssertOk();
                Assert.True(writer.Moved > 0, "some keys belong to the embedded node");
            }

            // the application's client reads every key: the embedded node's keys in process, the others over TCP
            var client = host.Host.Services.GetRequiredService<AkkaCacheClient>();
            await client.RefreshTopologyAsync();
            var values = await client.GetManyAsync(Enumerable.Range(0, count).Select(i => (CacheKey)$"key:{i}").ToList());
            Assert.Equal(Enumerable.Range(0, count).Select(i => $"value:{i}"), values.Select(v => v is null ? null : System.Text.Encoding.UTF8.GetString(v)));
            await using (var observer = await RespTestClient.ConnectAsync(host.Port))
            {
                long self = (await observer.SendAsync("CLIENT", "ID")).Int();
                // peers keep links to the node too (pub/sub forwarding): the client's connections are the ones that ran MGET
                var readers = (await observer.SendAsync("CLIENT", "LIST")).Text().TrimEnd('\n').Split('\n')
                    .Where(l => !l.StartsWith($"id={self} ", StringComparison.Ordinal) && l.Contains(" cmd=mget ", StringComparison.Ordinal)).ToList();
                Assert.NotEmpty(readers);
                Assert.All(readers, line => Assert.Contains(" addr=inproc:", line));
            }

            // the application's in-process connection answers for the shards the embedded node leads, and redirects the rest
            var local = await host.ConnectInProcessAsync();
            int servedHere = 0;
            for (int i = 0; i < count; i++)
            {
                var reply = await local.SendAsync("GET", $"key:{i}");
                if (reply.IsError)
                {
                    Assert.StartsWith("MOVED ", reply.AsString());
                    Assert.EndsWith($" 127.0.0.1:{process.Port}", reply.AsString());
                    continue;
                }
                Assert.Equal($"value:{i}", reply.Text());
                servedHere++;
            }
            Assert.InRange(servedHere, 1, count - 1);
            Assert.Equal(servedHere, host.Node.GetStatus()!.Keys);

            // stopping the host is a graceful leave: every shard moves to the process node before the node stops
            await host.Host.StopAsync();
            Assert.True(await local.IsClosedByServerAsync());
            Assert.True(host.Log.Contains($"AkkaCache node leaving cluster {cluster.Name}: handing off", LogLevel.Information), host.Log.Text);
            Assert.True(host.Log.Contains($"AkkaCache node left cluster {cluster.Name}", LogLevel.Information), host.Log.Text);
            Assert.False(host.Log.Contains("before its hand-off finished"), host.Log.Text);
            Assert.True(host.Log.Contains("AkkaCache node stopped"), host.Log.Text);

            var settled = await TestCluster.InfoAsync(process);
            Assert.Equal("1", TestCluster.Field(settled, "cluster_known_nodes"));
            Assert.Equal("ok", TestCluster.Field(settled, "cluster_state"));
            await using var reader = await RespTestClient.ConnectAsync(process.Port);
            for (int i = 0; i < count; i++) Assert.Equal($"value:{i}", (await reader.SendAsync("GET", $"key:{i}")).Text());
            Assert.Equal(count, (await reader.SendAsync("DBSIZE")).Int());
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_leave_cut_short_by_the_shutdown_timeout_still_resigns_at_once()
    {
        // a failure detector that waits a minute: a node that did not leave would keep its shards unserved this long
        string slowDetector = Path.Combine(Path.GetTempPath(), $"akkacache-slow-detector-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(slowDetector, "akka.cluster.failure-detector.acceptable-heartbeat-pause = 60 s\n");
        await using var cluster = await TestCluster.StartAsync(1, "--shards", "64", "--replicas", "0", "--akka-config", slowDetector);
        var process = cluster.Nodes[0];
        var settings = MemberOf(cluster);
        var host = TestHost.Build(settings);
        try
        {
            await host.Host.StartAsync();
            await Poll.UntilAsync(async () => (await host.NodeHealthAsync()) is { Status: HealthStatus.Healthy } health && (int)health.Data["shardsLed"] > 0,
                "the embedded node leading shards", TimeSpan.FromSeconds(90));

            using (var expired = new CancellationTokenSource())
            {
                await expired.CancelAsync(); // the host's shutdown timeout, already over
                await host.Host.StopAsync(expired.Token);
            }
            Assert.True(host.Log.Contains("AkkaCache node stopping before its hand-off finished", LogLevel.Warning), host.Log.Text);
            Assert.True(host.Log.Contains("AkkaCache node stopped"), host.Log.Text);

            // the member left at once (well within the minute the failure detector would take) and its shards are the process node's
            await Poll.UntilAsync(async () =>
            {
                var info = await TestCluster.InfoAsync(process);
                return TestCluster.Field(info, "cluster_known_nodes") == "1" && TestCluster.Field(info, "cluster_state") == "ok";
            }, "the process node alone, serving every slot", TimeSpan.FromSeconds(30));
            await using var client = await RespTestClient.ConnectAsync(process.Port);
            for (int i = 0; i < 100; i++) (await client.SendAsync("SET", $"k{i.ToString(CultureInfo.InvariantCulture)}", "v")).AssertOk();
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
