using System.Diagnostics;
using System.Globalization;
using AkkaCache.Cluster.Tests.Infrastructure;
using AkkaCache.Core.Keyspace;
using Xunit.Abstractions;

namespace AkkaCache.Cluster.Tests;

/// <summary>Failures on real processes: kill -9, SIGSTOP/SIGCONT, a node cut off from the majority. Default failure detector and resolver.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClusterFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_a_primary_under_write_load_loses_no_write_that_WAIT_acknowledged()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await using var client = new RedirectingClient(cluster);
        var acknowledged = new Dictionary<string, string>();
        var victim = cluster.Nodes[1];
        var victimSlots = (await ClusterContractTests.SlotRangesAsync(victim)).Where(r => r.Port == victim.Port).ToList();
        Stopwatch? sinceKill = null;
        TimeSpan? firstVictimWriteAfterKill = null;

        for (int i = 0; acknowledged.Count < 1200 || firstVictimWriteAfterKill is null; i++)
        {
            if (i == 400)
            {
                victim.Kill();
                sinceKill = Stopwatch.StartNew();
            }
            string key = "acked:" + i.ToString(CultureInfo.InvariantCulture);
            string value = "v" + i.ToString(CultureInfo.InvariantCulture);
            var (reply, wait) = await client.SendAsync(["SET", key, value], ["WAIT", "1", "2000"]);
            reply.AssertOk();
            if (wait!.Int() < 1) continue; // not confirmed by a replica: the contract does not cover it
            acknowledged[key] = value;
            int slot = HashSlot.Of(System.Text.Encoding.UTF8.GetBytes(key));
            if (sinceKill is not null && firstVictimWriteAfterKill is null && victimSlots.Any(r => r.First <= slot && slot <= r.Last))
                firstVictimWriteAfterKill = sinceKill.Elapsed;
            Assert.True(i < 20_000, "the cluster never accepted acknowledged writes for the dead node's shards again");
        }
        output.WriteLine($"first acknowledged write to a shard of the killed node {firstVictimWriteAfterKill!.Value.TotalMilliseconds:F0} ms after kill -9");

        await cluster.WaitStableAsync();
        var lost = new List<string>();
        foreach (var (key, value) in acknowledged)
            if ((await client.SendAsync("GET", key)).AsString() != value) lost.Add(key);
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes lost, e.g. {string.Join(", ", lost.Take(5))}");
        // the goal is 5 s with the shipped failure detector and resolver; a loaded CI machine gets slack, the figure is in bench/README.md
        Assert.True(firstVictimWriteAfterKill.Value < TimeSpan.FromSeconds(30), $"failover took {firstVictimWriteAfterKill.Value}");
    }

    [Fact]
    public async Task A_paused_primary_is_fenced_when_it_resumes_and_rejoins_as_a_follower()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await using var client = new RedirectingClient(cluster);
        var zombie = cluster.Nodes[0];
        var ranges = await ClusterContractTests.SlotRangesAsync(zombie);
        // a key the zombie leads, and a connection to it opened before the pause
        string key = Enumerable.Range(0, 100_000).Select(i => "fenced:" + i.ToString(CultureInfo.InvariantCulture))
            .First(k => ranges.Single(r => r.First <= Slot(k) && Slot(k) <= r.Last).Port == zombie.Port);
        await using var stale = await RespTestClient.ConnectAsync(zombie.Port);
        (await stale.SendAsync("SET", key, "before")).AssertOk();
        Assert.Equal(1, (await stale.SendAsync("WAIT", "1", "5000")).Int());

        zombie.Pause();
        var survivors = cluster.Nodes.Skip(1).ToList();
        await Poll.UntilAsync(async () => TestCluster.Field(await TestCluster.InfoAsync(survivors[0]), "cluster_known_nodes") == "2",
            "the paused node's lease to expire and its shards to fail over", TimeSpan.FromSeconds(60));
        // written through the new primary while the zombie sleeps
        (await SendToSurvivorsAsync(survivors, "SET", key, "after")).AssertOk();

        zombie.Resume();
        // the first thing the zombie is asked after waking: it must not take the write, nor serve its stale copy
        var write = await stale.SendAsync("SET", key, "zombie");
        Assert.True(write.IsError, $"the resumed ex-primary accepted a write: {write}");
        Assert.Matches("^(CLUSTERDOWN|MOVED)", write.AsString());
        var read = await stale.SendAsync("GET", key);
        Assert.True(read.IsError, $"the resumed ex-primary served a read: {read}");

        // it comes back as a new member, holding only what the map gives it now
        await cluster.WaitStableAsync();
        Assert.Equal("after", (await client.SendAsync("GET", key)).AsString());
    }

    [Fact]
    public async Task A_node_that_loses_sight_of_the_majority_stops_serving_and_no_key_is_lost_when_it_returns()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await using var client = new RedirectingClient(cluster);
        for (int i = 0; i < 100; i++) (await client.SendAsync("SET", "k" + i, "v" + i)).AssertOk();
        // every write acknowledged by the one replica before the majority goes away
        await cluster.WaitReplicatedAsync();
        var node = cluster.Nodes[0];
        var others = cluster.Nodes.Skip(1).ToList();
        await using var direct = await RespTestClient.ConnectAsync(node.Port);

        foreach (var other in others) other.Pause();
        try
        {
            await Poll.UntilAsync(async () => TestCluster.Field(await TestCluster.InfoAsync(node), "cluster_state") == "fail",
                "the node to stop serving once no majority vouches for it", TimeSpan.FromSeconds(30));
            // whichever node leads the key: a node without its lease answers no keyed command at all
            (await direct.SendAsync("SET", "k1", "cut-off")).AssertErrorStartsWith("CLUSTERDOWN");
            (await direct.SendAsync("GET", "k1")).AssertErrorStartsWith("CLUSTERDOWN");
        }
        finally
        {
            foreach (var other in others) other.Resume();
        }

        await cluster.WaitStableAsync();
        for (int i = 0; i < 100; i++) Assert.Equal("v" + i, (await client.SendAsync("GET", "k" + i)).AsString());
    }

    private static int Slot(string key) => HashSlot.Of(System.Text.Encoding.UTF8.GetBytes(key));

    /// <summary>Sends to the survivors only, following -MOVED among them (the paused node would hang the request).</summary>
    private static async Task<AkkaCache.Protocol.RespValue> SendToSurvivorsAsync(List<NodeProcess> survivors, params string[] args)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        int port = survivors[0].Port;
        while (true)
        {
            await using var connection = await RespTestClient.ConnectAsync(port);
            var reply = await connection.SendAsync(args);
            string? error = reply.IsError ? reply.AsString() : null;
            if (error is null || DateTime.UtcNow > deadline) return reply;
            if (error.StartsWith("MOVED ", StringComparison.Ordinal)) port = int.Parse(error[(error.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
            else await Task.Delay(50);
        }
    }
}
