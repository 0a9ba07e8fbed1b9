using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using AkkaCache.Cluster.Tests.Infrastructure;
using AkkaCache.Server;
using AkkaCache.Server.Configuration;

namespace AkkaCache.Cluster.Tests;

/// <summary>The health endpoint and the cluster-only metrics on real cluster members over a real etcd.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class ObservabilityClusterTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task Readiness_follows_the_quorum_lease_while_liveness_stays_up()
    {
        await using var cluster = await TestCluster.StartAsync(2, "--shards", "64");
        int adminPort = NodeProcess.FreePort();
        var node = await cluster.AddNodeAsync(true, "--admin-port", adminPort.ToString(CultureInfo.InvariantCulture));
        Assert.Contains($"AkkaCache admin endpoint on http://127.0.0.1:{adminPort}/health/ready", node.Output);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/"), Timeout = TimeSpan.FromSeconds(30) };

        JsonElement body = default;
        await Poll.UntilAsync(async () => (await GetAsync(http, "health/ready")) is { Status: HttpStatusCode.OK } ready && (body = ready.Body).ValueKind != 0,
            "the member to be ready", TimeSpan.FromSeconds(60));
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.Equal(node.Id, body.GetProperty("node").GetString());
        Assert.True(body.GetProperty("clustered").GetBoolean());
        Assert.True(body.GetProperty("member").GetBoolean());
        Assert.True(body.GetProperty("lease_valid").GetBoolean());
        Assert.True(body.GetProperty("epoch").GetInt64() > 0);

        // the two others stop answering: no majority vouches for this node, so it stops serving its shards, and says so
        var others = cluster.Nodes.Where(n => n != node).ToList();
        foreach (var other in others) other.Pause();
        try
        {
            await Poll.UntilAsync(async () => (await GetAsync(http, "health/ready")) is { Status: HttpStatusCode.ServiceUnavailable } notReady && (body = notReady.Body).ValueKind != 0,
                "readiness to fail once the lease lapses", TimeSpan.FromSeconds(60));
            Assert.Equal("not ready", body.GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "health/live")).Status);
            await Poll.UntilAsync(() => node.Output.Split('\n').Any(l => l.Contains($"=> node {node.Id} quorum lease lapsed", StringComparison.Ordinal)),
                "the lapsed lease to be logged");
        }
        finally
        {
            foreach (var other in others) other.Resume();
        }

        // the console log: one line per entry, each naming the node
        Assert.Contains(node.Output.Split('\n'), l => l.Contains($"=> node {node.Id} AkkaCache node ready, accepting connections on", StringComparison.Ordinal));
        // the majority comes back: the node is ready again (as a new member if the resolver downed it meanwhile)
        await Poll.UntilAsync(async () => (await GetAsync(http, "health/ready")).Status == HttpStatusCode.OK, "the node to be ready again", TimeSpan.FromSeconds(90));
    }

    /// <summary>Two in-process members: the second is seeded by the first's cluster port.</summary>
    private static async Task<(NodeServer First, NodeServer Second)> StartPairAsync(Func<string, string, NodeOptions> options)
    {
        var first = await NodeServer.StartAsync(options("1", ""));
        try
        {
            var second = await NodeServer.StartAsync(options("2", $"127.0.0.1:{first.ClusterPort}"));
            return (first, second);
        }
        catch
        {
            await first.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Replication_lag_and_shards_moving_are_observed_on_members()
    {
        var (first, second) = await StartPairAsync((id, seeds) => new()
        {
            Port = 0, Shards = 64, Replicas = 1, ClusterEnabled = "yes", SeedNodes = seeds, ClusterName = "metrics", NodeId = "m-" + id,
        });
        await using var firstNode = first;
        await using var secondNode = second;
        // settled: the same map on both, every shard led by one and replicated on the other
        await Poll.UntilAsync(() => first.GetStatus() is var a && second.GetStatus() is var b && a.Epoch == b.Epoch
                                    && a.ShardsLed + b.ShardsLed == 64 && a.ShardsReplicated + b.ShardsReplicated == 64 && a.ShardsLed > 0 && b.ShardsLed > 0,
            "both members to lead and replicate shards", TimeSpan.FromSeconds(60));

        var meter = first.Node.Metrics.Meter;
        var observed = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) => { if (ReferenceEquals(instrument.Meter, meter)) l.EnableMeasurementEvents(instrument); },
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => observed[i.Name] = v);
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => observed[i.Name] = v);
        listener.Start();

        await using (var client = await RespTestClient.ConnectAsync(first.Port))
        {
            for (int i = 0; i < 200; i++)
            {
                var reply = await client.SendAsync("SET", "key" + i.ToString(CultureInfo.InvariantCulture), "v");
                // keys of the other member's shards are redirected; a shard still settling may ask to retry
                Assert.True(reply.AsString() is "OK" || (reply.IsError && reply.AsString()!.Split(' ')[0] is "MOVED" or "ASK" or "TRYAGAIN"), reply.ToString());
            }
        }
        // the replicas catch up and nothing moves between two members that are both up: both gauges settle at 0
        await Poll.UntilAsync(() =>
        {
            observed.Clear();
            listener.RecordObservableInstruments();
            return observed.TryGetValue("akkacache.replication.lag", out long lag) && lag == 0
                && observed.TryGetValue("akkacache.shards.migrating", out long moving) && moving == 0;
        }, "replication lag and shards moving to be observed at 0", TimeSpan.FromSeconds(60));
        Assert.True(observed["akkacache.keys"] > 0);
    }

    [Fact]
    public async Task Hot_key_replication_is_observed_on_members()
    {
        var (first, second) = await StartPairAsync((id, seeds) => new()
        {
            Port = 0, Shards = 64, Replicas = 1, ClusterEnabled = "yes", SeedNodes = seeds, ClusterName = "hot-metrics", NodeId = "h-" + id,
            HotKeyMinRate = 100, HotKeyWindow = 500,
        });
        await using var firstNode = first;
        await using var secondNode = second;
        await Poll.UntilAsync(() => first.GetStatus() is var a && second.GetStatus() is var b && a.Epoch == b.Epoch
                                    && a.ShardsLed + b.ShardsLed == 64 && a.ShardsLed > 0 && b.ShardsLed > 0,
            "both members to lead shards", TimeSpan.FromSeconds(60));
        const string key = "hot";
        int shard = first.Node.Engine.Layout.ShardOfKey("hot"u8);
        var (owner, holder) = first.Node.Cluster!.Topology!.RoleOf(shard) == AkkaCache.Cluster.Topology.ShardRole.Primary ? (first, second) : (second, first);

        await using var ownerClient = await RespTestClient.ConnectAsync(owner.Port);
        await using var holderClient = await RespTestClient.ConnectAsync(holder.Port);
        (await ownerClient.SendAsync("SET", key, "v")).AssertOk();
        await Poll.UntilAsync(async () =>
        {
            for (int i = 0; i < 100; i++) await ownerClient.SendAsync("GET", key);
            return (await holderClient.SendAsync("GET", key)).AsString() == "v";
        }, "the holder answering from its copy", TimeSpan.FromSeconds(30));
        for (int i = 0; i < 10; i++) Assert.Equal("v", (await holderClient.SendAsync("GET", key)).AsString());
        (await ownerClient.SendAsync("SET", key, "w")).AssertOk();
        Assert.Equal("w", (await holderClient.SendAsync("GET", key)).AsString());

        Dictionary<string, long> Observe(NodeServer node)
        {
            var observed = new ConcurrentDictionary<string, long>();
            using var listener = new MeterListener
            {
                InstrumentPublished = (instrument, l) => { if (ReferenceEquals(instrument.Meter, node.Node.Metrics.Meter)) l.EnableMeasurementEvents(instrument); },
            };
            listener.SetMeasurementEventCallback<long>((i, v, _, _) => observed[i.Name] = v);
            listener.Start();
            listener.RecordObservableInstruments();
            return new Dictionary<string, long>(observed);
        }
        var atOwner = Observe(owner);
        var atHolder = Observe(holder);
        Assert.Equal(1, atOwner["akkacache.hotkeys.promoted"]);
        Assert.True(atOwner["akkacache.hotkeys.promotions"] >= 1);
        Assert.True(atOwner["akkacache.hotkeys.write_waits"] >= 1);
        Assert.Equal(1, atHolder["akkacache.hotkeys.copies"]);
        Assert.True(atHolder["akkacache.hotkeys.local_reads"] >= 12);
        Assert.Equal(0, atHolder["akkacache.hotkeys.promoted"]);
    }
}
