using System.Globalization;
using System.Text;
using AkkaCache.Cluster.Tests.Infrastructure;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.Tests;

/// <summary>Warm rebalancing on real processes: shards move with their entries and live writes, nothing is lost or resurrected.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClusterRebalanceTests
{
    private const int KeyCount = 10_000;
    private const int ShortLivedCount = 500;

    [Fact]
    public async Task Join_and_leave_move_ten_thousand_keys_losing_none_and_resurrecting_no_expired_key()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        await using var client = new RedirectingClient(cluster);
        for (int i = 0; i < KeyCount; i++) (await client.SendAsync("SET", Key(i), Value(i))).AssertOk();
        for (int i = 0; i < ShortLivedCount; i++) (await client.SendAsync("SET", ShortKey(i), "gone-soon", "PX", "4000")).AssertOk();
        var shortLivedUntil = DateTime.UtcNow + TimeSpan.FromSeconds(4);

        // while the third node joins, readers on the old nodes see -ASK for shards being handed over
        var old = cluster.Running.ToList();
        using var stopReaders = new CancellationTokenSource();
        var readers = old.Select(node => CountRedirectsAsync(node.Port, stopReaders.Token)).ToList();
        var joined = await cluster.AddNodeAsync(wait: false);
        await cluster.WaitStableAsync();
        stopReaders.Cancel();
        var seen = await Task.WhenAll(readers);
        Assert.True(seen.Sum(s => s.Ask) > 0, "no -ASK seen during the hand-offs: " + string.Join(", ", seen));
        Assert.True(seen.Sum(s => s.Moved) > 0, "no -MOVED seen after the moves");
        Assert.Equal(0, seen.Sum(s => s.Other));

        // the moves show in CLUSTER INFO: the old nodes streamed entries (they also feed their replicas)
        long sent = 0;
        foreach (var node in old) sent += long.Parse(TestCluster.Field(await TestCluster.InfoAsync(node), "cluster_migration_bytes_sent")!, CultureInfo.InvariantCulture);
        Assert.True(sent > KeyCount * 10, $"only {sent} bytes streamed");

        var slots = TestCluster.SlotsPerNode(await TestCluster.TextAsync(joined, "CLUSTER", "NODES"));
        Assert.InRange(slots[joined.Port], 5456 - 16, 5456 + 16); // a third of the slots, within a shard
        await AssertAllKeysAsync(client);

        // a graceful leave (CLUSTER LEAVE) hands everything on, then the process exits
        var leaver = old[0];
        (await client.SendAsync("CLUSTER", "LEAVE")).AssertOk(); // any node: the client's first is old[0]
        await leaver.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(0, leaver.ExitCode);
        await cluster.WaitStableAsync();
        await AssertAllKeysAsync(client);

        // SIGTERM is a graceful leave too: the last but one node hands everything to the last
        var terminated = old[1];
        terminated.Terminate();
        await terminated.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(0, terminated.ExitCode);
        Assert.Contains("leaving the cluster", terminated.Output);
        await cluster.WaitStableAsync();
        await AssertAllKeysAsync(client);

        // expiry is absolute and travelled with the entries: none of the short-lived keys comes back
        await Poll.UntilAsync(() => DateTime.UtcNow > shortLivedUntil + TimeSpan.FromMilliseconds(100), "the short-lived keys to expire");
        for (int i = 0; i < ShortLivedCount; i++) Assert.True((await client.SendAsync("GET", ShortKey(i))).IsNull, ShortKey(i));
        Assert.Equal(KeyCount, await CountKeysAsync(cluster));
    }

    private static string Key(int i) => "key:" + i.ToString(CultureInfo.InvariantCulture);
    private static string Value(int i) => "value-" + i.ToString(CultureInfo.InvariantCulture);
    private static string ShortKey(int i) => "short:" + i.ToString(CultureInfo.InvariantCulture);

    private static async Task AssertAllKeysAsync(RedirectingClient client)
    {
        var missing = new List<string>();
        for (int i = 0; i < KeyCount; i++)
        {
            var reply = await client.SendAsync("GET", Key(i));
            if (reply.IsNull || reply.AsString() != Value(i)) missing.Add(Key(i));
        }
        Assert.True(missing.Count == 0, $"{missing.Count} keys lost, e.g. {string.Join(", ", missing.Take(5))}");
    }

    private static async Task<long> CountKeysAsync(TestCluster cluster)
    {
        long total = 0;
        foreach (var node in cluster.Running)
        {
            await using var connection = await RespTestClient.ConnectAsync(node.Port);
            total += (await connection.SendAsync("DBSIZE")).Int();
        }
        return total;
    }

    internal readonly record struct Redirects(int Ask, int Moved, int TryAgain, int Other);

    /// <summary>Pipelines GETs of keys over every slot to one node, without following redirects, and counts the answers.</summary>
    internal static async Task<Redirects> CountRedirectsAsync(int port, CancellationToken stop)
    {
        int ask = 0, moved = 0, tryAgain = 0, other = 0;
        await using var connection = await RespTestClient.ConnectAsync(port);
        var batch = new StringBuilder();
        int next = 0;
        while (!stop.IsCancellationRequested)
        {
            batch.Clear();
            for (int i = 0; i < 100; i++, next = (next + 1) % KeyCount)
            {
                string key = Key(next);
                batch.Append(CultureInfo.InvariantCulture, $"*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\n");
            }
            await connection.SendRawAsync(batch.ToString());
            for (int i = 0; i < 100; i++)
            {
                var reply = await connection.ReadAsync();
                if (!reply.IsError) continue;
                string error = reply.AsString()!;
                if (error.StartsWith("ASK ", StringComparison.Ordinal)) ask++;
                else if (error.StartsWith("MOVED ", StringComparison.Ordinal)) moved++;
                else if (error.StartsWith("TRYAGAIN", StringComparison.Ordinal)) tryAgain++;
                else other++;
            }
        }
        return new Redirects(ask, moved, tryAgain, other);
    }
}
