using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using AkkaCache.Cluster.Tests.Infrastructure;
using StackExchange.Redis;

namespace AkkaCache.Cluster.Tests;

/// <summary>One 3-node cluster with the default layout, shared by the third-party client tests (they write disjoint keys).</summary>
public sealed class CompatibilityCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public int[] Ports => [.. Cluster.Nodes.Select(n => n.Port)];

    public async Task InitializeAsync() => Cluster = await TestCluster.StartAsync(3);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// Cluster clients nobody here wrote, against a real 3-node cluster in which every node leads shards and holds
/// replicas of others': StackExchange.Redis (NuGet), redis-py (Debian's python3-redis) and ioredis (npm). Each must
/// find a primary for every one of the 16384 slots, take no node for a replica, and read back what it wrote.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClientCompatibilityTests(CompatibilityCluster fixture) : IClassFixture<CompatibilityCluster>
{
    private const int Keys = 600;
    private static readonly string Compatibility = Path.Combine(Repository.Root, "tests", "AkkaCache.Cluster.Tests", "Compatibility");

    [Fact]
    public async Task StackExchange_redis_finds_a_primary_for_every_slot_and_reads_back_what_it_wrote()
    {
        var options = new ConfigurationOptions { AbortOnConnectFail = true, ConnectTimeout = 15000, SyncTimeout = 15000, AsyncTimeout = 15000 };
        foreach (int port in fixture.Ports) options.EndPoints.Add(IPAddress.Loopback, port);
        await using var muxer = await ConnectionMultiplexer.ConnectAsync(options);

        IServer[] servers = muxer.GetServers();
        Assert.Equal(fixture.Ports.Order(), servers.Select(s => PortOf(s.EndPoint)).Order());
        Assert.All(servers, server => Assert.False(server.IsReplica, $"{server.EndPoint} taken for a replica"));
        ClusterConfiguration layout = servers[0].ClusterConfiguration!;
        int covered = Enumerable.Range(0, 16384).Count(slot => layout.GetBySlot(slot) is { IsReplica: false, EndPoint: { } endPoint } && fixture.Ports.Contains(PortOf(endPoint)));
        Assert.Equal(16384, covered);

        IDatabase db = muxer.GetDatabase();
        var keys = Enumerable.Range(0, Keys).Select(i => (RedisKey)$"compat:se:{i}").ToArray();
        for (int i = 0; i < Keys; i++) Assert.True(await db.StringSetAsync(keys[i], $"value-{i}"));
        for (int i = 0; i < Keys; i++) Assert.Equal($"value-{i}", (string?)await db.StringGetAsync(keys[i]));
        // the keys spread over all three primaries: every node's own slots were written through it
        Assert.Equal(3, keys.Select(k => PortOf(db.IdentifyEndpoint(k)!)).Distinct().Count());
    }

    [Fact]
    public async Task Redis_py_takes_every_node_for_a_primary_and_its_scan_finds_every_key()
    {
        var result = await RunClientAsync("/usr/bin/python3", "redis_py_cluster.py", "compat:py:",
            "/usr/bin/python3 -c 'import redis' failed: install Debian's python3-redis (./build.sh deps)");
        AssertSawTheWholeCluster(result);
    }

    [Fact]
    public async Task Ioredis_finds_a_node_for_every_slot_and_scans_every_key_on_the_masters()
    {
        var result = await RunClientAsync("node", "ioredis_cluster.js", "compat:io:",
            "ioredis is missing under tests/AkkaCache.Cluster.Tests/Compatibility/node_modules (./build.sh deps)");
        AssertSawTheWholeCluster(result);
    }

    /// <summary>What a script reports: every key written and read back, found once by scanning, every slot served, no replica.</summary>
    private void AssertSawTheWholeCluster(JsonElement result)
    {
        Assert.Equal(Keys, result.GetProperty("written").GetInt32());
        Assert.Equal(Keys, result.GetProperty("read_back").GetInt32());
        Assert.Equal(Keys, result.GetProperty("scanned").GetInt32());
        Assert.Equal(Keys, result.GetProperty("scanned_raw").GetInt32()); // no node lists a key it only holds a copy of
        Assert.Equal(0, result.GetProperty("uncovered_slots").GetInt32());
        Assert.Equal(fixture.Ports.Select(p => $"127.0.0.1:{p}").Order(), result.GetProperty("primaries").EnumerateArray().Select(e => e.GetString()!).Order());
        Assert.Empty(result.GetProperty("replicas").EnumerateArray());
    }

    private static int PortOf(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => ip.Port,
        DnsEndPoint dns => dns.Port,
        _ => throw new InvalidOperationException("unexpected endpoint " + endPoint),
    };

    /// <summary>Runs a client script from the Compatibility folder (where its node_modules are) and parses its JSON line.</summary>
    private async Task<JsonElement> RunClientAsync(string interpreter, string script, string prefix, string whenMissing)
    {
        var start = new ProcessStartInfo(interpreter)
        {
            WorkingDirectory = Compatibility,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(Compatibility, script));
        start.ArgumentList.Add(string.Join(",", fixture.Ports));
        start.ArgumentList.Add(Keys.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(prefix);
        using var process = Process.Start(start) ?? throw new InvalidOperationException(interpreter + " could not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        string stderr = await error;
        if (stderr.Contains("No module named 'redis'", StringComparison.Ordinal) || stderr.Contains("Cannot find module 'ioredis'", StringComparison.Ordinal))
            Assert.Fail(whenMissing);
        Assert.True(process.ExitCode == 0, $"{script} exited with {process.ExitCode}: {stderr}");
        return JsonDocument.Parse(await output).RootElement;
    }

}
