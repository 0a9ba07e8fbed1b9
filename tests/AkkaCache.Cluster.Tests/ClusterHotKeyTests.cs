using System.Globalization;
using AkkaCache.Cluster.Tests.Infrastructure;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.Tests;

/// <summary>
/// Hot keys replicated to every node, on real node processes: promotion under load, reads served by non-owners without
/// a redirect, every copy updated before a write's reply, expiry carried with the copy, demotion when the key cools,
/// and copies that stop being served when their owner stops answering.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClusterHotKeyTests
{
    private const string Key = "hot:{profile}";

    /// <summary>Low thresholds, so a test loop makes a key hot; short windows, so it cools quickly.</summary>
    private static readonly string[] HotArgs = ["--shards", "64", "--hotkey-min-rate", "100", "--hotkey-window", "500"];

    private sealed class Load : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Load(NodeProcess owner, string key)
        {
            _loop = Task.Run(async () =>
            {
                // redirects once the owner hands the key on are fine: the load only has to make the key hot
                await using var client = await RespTestClient.ConnectAsync(owner.Port);
                while (!_stop.IsCancellationRequested)
                {
                    try { await client.SendAsync("GET", key); }
                    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException) { return; }
                }
            });
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            await _loop;
        }
    }

    private static async Task<NodeProcess> OwnerOfAsync(TestCluster cluster, string key)
    {
        foreach (var node in cluster.Nodes)
        {
            await using var client = await RespTestClient.ConnectAsync(node.Port);
            if (!(await client.SendAsync("EXISTS", key)).IsError) return node;
        }
        throw new InvalidOperationException("no node owns " + key);
    }

    private static async Task<string> InfoFieldAsync(NodeProcess node, string field) =>
        TestCluster.Field(await TestCluster.TextAsync(node, "INFO", "stats"), field) ?? throw new InvalidOperationException($"INFO has no {field}");

    private static async Task WaitPromotedAsync(IEnumerable<NodeProcess> holders, string key, string value)
    {
        foreach (var holder in holders)
        {
            await using var client = await RespTestClient.ConnectAsync(holder.Port);
            await Poll.UntilAsync(async () => (await client.SendAsync("GET", key)) is { IsError: false } reply && reply.AsString() == value,
                $"{holder.Id} serving its copy of {key}");
        }
    }

    [Fact]
    public async Task A_hot_key_is_served_by_every_node_updated_before_each_write_is_acknowledged_and_demoted_when_it_cools()
    {
        await using var cluster = await TestCluster.StartAsync(3, HotArgs);
        var owner = await OwnerOfAsync(cluster, Key);
        var holders = cluster.Nodes.Where(n => n != owner).ToList();
        await using var writer = await RespTestClient.ConnectAsync(owner.Port);
        (await writer.SendAsync("SET", Key, "v0")).AssertOk();

        var clients = new List<RespTestClient>();
        try
        {
            foreach (var holder in holders) clients.Add(await RespTestClient.ConnectAsync(holder.Port));
            await using (new Load(owner, Key))
            {
                await WaitPromotedAsync(holders, Key, "v0");

                // the owner names the key hot and the nodes holding its copy; any node lists it for clients
                var hot = (await writer.SendAsync("AC.HOTKEYS")).Items!.Single(k => k.Items![0].AsString() == Key);
                Assert.Equal(holders.Select(h => h.Id).Order(), hot.Items![3].Items!.Select(i => i.AsString()!).Order());
                foreach (var client in clients)
                    Assert.Contains(Key, (await client.SendAsync("AC.HOTCOPIES")).Items!.Select(i => i.AsString()));

                // every read a copy answers, on a node that does not own the key, without a redirect
                foreach (var client in clients)
                {
                    Assert.Equal("v0", (await client.SendAsync("MGET", Key)).Items![0].AsString());
                    Assert.Equal(2, (await client.SendAsync("EXISTS", Key, Key)).Int());
                    Assert.Equal(-1, (await client.SendAsync("TTL", Key)).Int());
                    Assert.Equal(-1, (await client.SendAsync("PTTL", Key)).Int());
                }
                foreach (var holder in holders) Assert.True(long.Parse(await InfoFieldAsync(holder, "hotkeys_local_reads"), CultureInfo.InvariantCulture) >= 5);

                // the node-to-node commands refuse what they cannot apply, and keep the connection
                var bad = clients[0];
                (await bad.SendAsync("AC.HOTSET", owner.Id, "not-a-number", Key, "x", "1", "0")).AssertError("ERR value is not an integer or out of range");
                (await bad.SendAsync("AC.HOTSET", owner.Id, "1", Key)).AssertError("ERR wrong number of arguments for 'ac.hotset' command");
                (await bad.SendAsync("AC.HOTDEL", owner.Id, "1.5", Key)).AssertError("ERR value is not an integer or out of range");
                (await bad.SendAsync("AC.HOTPING", "holder", Key)).AssertError("ERR wrong number of arguments for 'ac.hotping' command");
                (await bad.SendAsync("AC.HOTPING", "no-such-node")).AssertErrorStartsWith("HOTLEASE");
                Assert.Equal("v0", (await bad.SendAsync("GET", Key)).AsString());

                // a write is acknowledged only once no copy can answer the old value
                for (int i = 1; i <= 30; i++)
                {
                    string value = "v" + i.ToString(CultureInfo.InvariantCulture);
                    var reply = i % 3 == 0 ? await writer.SendAsync("INCRBY", "n:{profile}", "1") : await writer.SendAsync("SET", Key, value);
                    if (i % 3 == 0) continue; // a write to another key of the slot changes nothing here
                    reply.AssertOk();
                    foreach (var client in clients)
                    {
                        var read = await client.SendAsync("GET", Key);
                        Assert.False(read.IsError, read.ToString());
                        Assert.Equal(value, read.AsString());
                    }
                }
                Assert.True(long.Parse(await InfoFieldAsync(owner, "hotkeys_write_waits"), CultureInfo.InvariantCulture) >= 20);

                // the copy carries the absolute expiry: TTL is answered from it, and it is never served past it
                (await writer.SendAsync("SET", Key, "short", "PX", "1500")).AssertOk();
                var expiresAt = DateTime.UtcNow.AddMilliseconds(1500);
                foreach (var client in clients)
                {
                    Assert.Equal("short", (await client.SendAsync("GET", Key)).AsString());
                    Assert.InRange((await client.SendAsync("PTTL", Key)).Int(), 1, 1500);
                }
                while (DateTime.UtcNow < expiresAt.AddMilliseconds(500))
                {
                    foreach (var client in clients)
                    {
                        var read = await client.SendAsync("GET", Key);
                        if (DateTime.UtcNow > expiresAt.AddMilliseconds(50)) Assert.NotEqual("short", read.IsError ? null : read.AsString());
                    }
                }

                // a delete takes every copy with it before its reply
                (await writer.SendAsync("SET", Key, "again")).AssertOk();
                (await writer.SendAsync("DEL", Key)).Int();
                foreach (var client in clients)
                {
                    var read = await client.SendAsync("GET", Key);
                    Assert.True(read.IsError ? read.Text().StartsWith("MOVED", StringComparison.Ordinal) : read.IsNull, read.ToString());
                }
                (await writer.SendAsync("SET", Key, "back")).AssertOk();
            }

            // without reads the key cools: its copies go, and the other nodes redirect again
            foreach (var client in clients)
                await Poll.UntilAsync(async () => (await client.SendAsync("GET", Key)) is { IsError: true } reply && reply.Text().StartsWith("MOVED", StringComparison.Ordinal),
                    "the key demoted");
            Assert.True(long.Parse(await InfoFieldAsync(owner, "hotkeys_demotions"), CultureInfo.InvariantCulture) >= 1);
            Assert.Equal("0", await InfoFieldAsync(owner, "hotkeys_promoted"));
            foreach (var client in clients) Assert.Empty((await client.SendAsync("AC.HOTCOPIES")).Items!);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Copies_stop_being_served_when_their_owner_stops_answering_and_never_outlive_a_failover()
    {
        await using var cluster = await TestCluster.StartAsync(3, [.. HotArgs, "--replicas", "1"]);
        var owner = await OwnerOfAsync(cluster, Key);
        var holders = cluster.Nodes.Where(n => n != owner).ToList();
        await using (var writer = await RespTestClient.ConnectAsync(owner.Port))
            (await writer.SendAsync("SET", Key, "before")).AssertOk();
        await using (new Load(owner, Key))
            await WaitPromotedAsync(holders, Key, "before");

        owner.Pause();
        try
        {
            // the holders' leases on the paused owner's copies run out before anyone may take over its shards
            foreach (var holder in holders)
            {
                await using var client = await RespTestClient.ConnectAsync(holder.Port);
                await Poll.UntilAsync(async () => (await client.SendAsync("GET", Key)) is var reply && (reply.IsError || reply.AsString() != "before"),
                    $"{holder.Id} no longer serving the paused owner's copy");
            }
            // after the failover, a write on the new primary is what every node answers
            NodeProcess? primary = null;
            await Poll.UntilAsync(async () =>
            {
                foreach (var holder in holders)
                {
                    await using var client = await RespTestClient.ConnectAsync(holder.Port);
                    if (!(await client.SendAsync("SET", Key, "after")).IsError) primary = holder;
                }
                return primary is not null;
            }, "a replica promoted and taking the write");
            foreach (var holder in holders)
            {
                await using var client = await RespTestClient.ConnectAsync(holder.Port);
                var read = await client.SendAsync("GET", Key);
                Assert.NotEqual("before", read.IsError ? null : read.AsString());
            }
        }
        finally
        {
            owner.Resume();
        }
    }

    [Fact]
    public async Task A_hot_key_handed_to_another_node_never_answers_an_older_value_than_the_last_acknowledged_write()
    {
        await using var cluster = await TestCluster.StartAsync(3, HotArgs);
        var owner = await OwnerOfAsync(cluster, Key);
        var others = cluster.Nodes.Where(n => n != owner).ToList();
        await using (var writer = await RespTestClient.ConnectAsync(owner.Port))
            (await writer.SendAsync("SET", Key, "w0")).AssertOk();
        await using var load = new Load(owner, Key);
        await WaitPromotedAsync(others, Key, "w0");

        await using var cluster2 = new RedirectingClient(cluster);
        var readers = new List<RespTestClient>();
        try
        {
            foreach (var node in others) readers.Add(await RespTestClient.ConnectAsync(node.Port));
            await using (var leaving = await RespTestClient.ConnectAsync(owner.Port))
                (await leaving.SendAsync("CLUSTER", "LEAVE")).AssertOk();
            int servedValues = 0, writes = 0;
            // through the whole hand-off and a little after: each acknowledged write is what any node answers next
            for (int extra = 0; extra < 50; writes++)
            {
                if (owner.HasExited) extra++;
                string value = "w" + (writes + 1).ToString(CultureInfo.InvariantCulture);
                (await cluster2.SendAsync("SET", Key, value)).AssertOk();
                foreach (var reader in readers)
                {
                    var read = await reader.SendAsync("GET", Key);
                    if (read.IsError) continue; // a redirect: this node neither owns the key nor holds a copy right now
                    Assert.Equal(value, read.AsString());
                    servedValues++;
                }
                Assert.True(writes < 20_000, "the owner did not leave");
            }
            Assert.True(servedValues > 0);
            Assert.Equal(0, owner.ExitCode);
        }
        finally
        {
            foreach (var reader in readers) await reader.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_key_written_as_often_as_it_is_read_is_demoted_and_stays_on_its_owner()
    {
        await using var cluster = await TestCluster.StartAsync(3, HotArgs);
        var owner = await OwnerOfAsync(cluster, Key);
        await using var writer = await RespTestClient.ConnectAsync(owner.Port);
        var until = DateTime.UtcNow.AddSeconds(4);
        long last = 0;
        // one read per write: hot by its accesses, but every write would wait for every node
        while (DateTime.UtcNow < until)
        {
            last = (await writer.SendAsync("INCR", Key)).Int();
            Assert.Equal(last.ToString(CultureInfo.InvariantCulture), (await writer.SendAsync("GET", Key)).AsString());
        }
        long promotions = long.Parse(await InfoFieldAsync(owner, "hotkeys_promotions"), CultureInfo.InvariantCulture);
        // promoted once (the detector counts writes too), demoted at the next look, not promoted again
        Assert.Equal(1, promotions);
        Assert.Equal(promotions, long.Parse(await InfoFieldAsync(owner, "hotkeys_demotions"), CultureInfo.InvariantCulture));
        Assert.Equal("0", await InfoFieldAsync(owner, "hotkeys_promoted"));
        Assert.True(last > 1000, $"only {last} writes: the key was not hot");
    }
}
