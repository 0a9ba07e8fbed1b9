using System.Text;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>AC.HOTKEYS and INFO's hotkeys field, on a node whose clock the test drives (1 s windows, 1 % and 1000/s).</summary>
public sealed class HotKeyTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private TestNode _node = null!;
    private RespTestClient _client = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync(null, _clock);
        _client = await _node.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _node.DisposeAsync();
    }

    private Task<RespValue> Send(params string[] args) => _client.SendAsync(args);

    /// <summary>Pipelines the commands in one write and reads every reply (thousands of round trips would be slow, not different).</summary>
    private async Task Pipeline(IEnumerable<string[]> commands)
    {
        var bytes = new StringBuilder();
        int count = 0;
        foreach (var args in commands)
        {
            bytes.Append('*').Append(args.Length).Append("\r\n");
            foreach (var arg in args) bytes.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
            count++;
        }
        await _client.SendRawAsync(bytes.ToString());
        for (int i = 0; i < count; i++) Assert.NotEqual(RespType.Error, (await _client.ReadAsync()).Type);
    }

    /// <summary>3000 GETs of <paramref name="hot"/> among 1000 of distinct keys, all at the same instant.</summary>
    private static IEnumerable<string[]> Hammer(string hot, string background = "bg")
    {
        for (int i = 0; i < 1000; i++)
        {
            yield return ["GET", hot];
            yield return ["GET", hot];
            yield return ["GET", hot];
            yield return ["GET", $"{background}:{i}"];
        }
    }

    private static List<(string Key, long Rate, long Shard)> Entries(RespValue reply) =>
        reply.Items!.Select(e =>
        {
            Assert.Empty(e.Items![3].Items!); // a standalone node copies its hot keys nowhere
            return (e.Items![0].Text(), e.Items![1].Int(), e.Items![2].Int());
        }).ToList();

    private async Task<long> InfoHotKeys()
    {
        var text = (await Send("INFO", "stats")).Text();
        var line = text.Split("\r\n").Single(l => l.StartsWith("hotkeys:", StringComparison.Ordinal));
        return long.Parse(line["hotkeys:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_hammered_key_is_listed_first_with_its_rate_and_shard()
    {
        await Pipeline(Hammer("hot"));
        var entries = Entries(await Send("AC.HOTKEYS"));
        var (key, rate, shard) = Assert.Single(entries); // the background keys are 1/s each: under both thresholds
        Assert.Equal("hot", key);
        // 3000 accesses at the start of a 1 s window; the sketch may only add the few keys sharing its counters
        Assert.InRange(rate, 3000, 3100);
        Assert.Equal(_node.Engine.Layout.ShardOfKey("hot"u8), (int)shard);
        Assert.Equal(1, await InfoHotKeys());
    }

    [Fact]
    public async Task Hotter_keys_come_first_and_count_limits_the_list()
    {
        await Pipeline(Hammer("a", "x"));
        await Pipeline(Hammer("b", "y").Concat(Enumerable.Repeat(new[] { "SET", "b", "v" }, 1000)));
        await Pipeline(Hammer("c", "z").Take(2000)); // 1500 GETs of c
        var entries = Entries(await Send("AC.HOTKEYS"));
        Assert.Equal(["b", "a", "c"], entries.Select(e => e.Key));
        Assert.True(entries[0].Rate > entries[1].Rate && entries[1].Rate > entries[2].Rate);
        Assert.Equal(["b", "a"], Entries(await Send("AC.HOTKEYS", "COUNT", "2")).Select(e => e.Key));
        Assert.Equal(["b"], Entries(await Send("AC.HOTKEYS", "count", "1")).Select(e => e.Key));
        Assert.Equal(3, Entries(await Send("AC.HOTKEYS", "COUNT", "100")).Count);
    }

    [Fact]
    public async Task A_key_that_cools_disappears_as_windows_pass()
    {
        await Pipeline(Hammer("hot"));
        Assert.Single(Entries(await Send("AC.HOTKEYS")));
        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Single(Entries(await Send("AC.HOTKEYS"))); // same window: about 3000 per 2 s now
        // every window halves the count: 3000 → 1500 → 750, then under 1000/s
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty(Entries(await Send("AC.HOTKEYS")));
        Assert.Equal(0, await InfoHotKeys());
    }

    [Fact]
    public async Task Commands_inside_a_transaction_count()
    {
        var commands = new List<string[]> { new[] { "MULTI" } };
        commands.AddRange(Enumerable.Repeat(new[] { "INCR", "counter" }, 1500));
        await Pipeline(commands);
        var exec = await Send("EXEC");
        Assert.Equal(1500, exec.Items!.Count);
        var (key, rate, _) = Assert.Single(Entries(await Send("AC.HOTKEYS")));
        Assert.Equal("counter", key);
        Assert.InRange(rate, 1500, 1600);
    }

    [Fact]
    public async Task The_thresholds_change_at_runtime_with_config_set()
    {
        (await Send("CONFIG", "SET", "hotkey-min-rate", "5000")).AssertOk();
        Assert.Equal(["hotkey-min-rate", "5000"], (await Send("CONFIG", "GET", "hotkey-min-rate")).Items!.Select(i => i.Text()));
        await Pipeline(Hammer("hot"));
        Assert.Empty(Entries(await Send("AC.HOTKEYS")));   // 3000/s is under 5000/s

        (await Send("CONFIG", "SET", "hotkey-min-rate", "10")).AssertOk();
        (await Send("CONFIG", "SET", "hotkey-share", "0.5")).AssertOk();
        Assert.Equal(["hotkey-share", "0.5"], (await Send("CONFIG", "GET", "hotkey-share")).Items!.Select(i => i.Text()));
        await Pipeline(Hammer("warm"));
        // 3000 of 8000 accesses: over 10/s but under half the node's traffic
        Assert.Empty(Entries(await Send("AC.HOTKEYS")));
        (await Send("CONFIG", "SET", "hotkey-share", "0.2")).AssertOk();
        // the first key was never named while it could not be hot, and is not accessed since: only the second is
        Assert.Equal(["warm"], Entries(await Send("AC.HOTKEYS")).Select(e => e.Key));

        (await Send("CONFIG", "SET", "hotkey-share", "1.5")).AssertErrorStartsWith("ERR CONFIG SET failed");
        (await Send("CONFIG", "SET", "hotkey-min-rate", "-1")).AssertErrorStartsWith("ERR CONFIG SET failed");
        (await Send("CONFIG", "SET", "hotkey-window", "100")).AssertErrorStartsWith("ERR CONFIG SET failed");
        Assert.Equal(["hotkey-window", "1000"], (await Send("CONFIG", "GET", "hotkey-window")).Items!.Select(i => i.Text()));
        // a standalone node copies nothing: it says so, and the settings still read
        Assert.Equal(["hotkey-replication", "no"], (await Send("CONFIG", "GET", "hotkey-replication")).Items!.Select(i => i.Text()));
        (await Send("CONFIG", "SET", "hotkey-max-value-size", "16kb")).AssertOk();
        Assert.Equal(["hotkey-max-value-size", "16384"], (await Send("CONFIG", "GET", "hotkey-max-value-size")).Items!.Select(i => i.Text()));
        Assert.Empty((await Send("AC.HOTCOPIES")).Items!);
        (await Send("AC.HOTSET", "owner", "1", "k", "v", "1", "0")).AssertErrorStartsWith("ERR hot-key replication is off");
    }

    [Fact]
    public async Task Bad_arguments_get_errors()
    {
        (await Send("AC.HOTKEYS", "COUNT")).AssertError("ERR syntax error");
        (await Send("AC.HOTKEYS", "LIMIT", "3")).AssertError("ERR syntax error");
        (await Send("AC.HOTKEYS", "COUNT", "x")).AssertError("ERR value is not an integer or out of range");
        (await Send("AC.HOTKEYS", "COUNT", "0")).AssertError("ERR COUNT must be positive");
        (await Send("AC.HOTKEYS", "COUNT", "-1")).AssertError("ERR COUNT must be positive");
        (await Send("AC.HOTKEYS", "COUNT", "1", "extra")).AssertError("ERR syntax error");
        Assert.Empty((await Send("AC.HOTKEYS")).Items!);
    }
}

public sealed class HotKeyDetectionOffTests
{
    [Fact]
    public async Task With_detection_off_the_list_is_empty()
    {
        var clock = new ManualClock();
        await using var node = await TestNode.StartAsync(o => o.HotKeyDetection = false, clock);
        await using var client = await node.ConnectAsync();
        for (int i = 0; i < 2000; i++) await client.SendAsync("GET", "hot");
        Assert.Empty((await client.SendAsync("AC.HOTKEYS")).Items!);
        Assert.Contains("hotkeys:0\r\n", (await client.SendAsync("INFO", "stats")).Text());
    }

    [Fact]
    public void Settings_are_validated()
    {
        Assert.Throws<InvalidOperationException>(() => new Configuration.NodeOptions { HotKeyWindow = 0 }.Validate());
        Assert.Throws<InvalidOperationException>(() => new Configuration.NodeOptions { HotKeyShare = 1.5 }.Validate());
        Assert.Throws<InvalidOperationException>(() => new Configuration.NodeOptions { HotKeyShare = double.NaN }.Validate());
        Assert.Throws<InvalidOperationException>(() => new Configuration.NodeOptions { HotKeyMinRate = -1 }.Validate());
        var options = NodeServer.LoadOptions(["--hotkey-detection", "false", "--hotkey-window", "250", "--hotkey-share", "0.05", "--hotkey-min-rate", "10"]);
        Assert.False(options.HotKeyDetection);
        Assert.Equal(250, options.HotKeyWindow);
        Assert.Equal(0.05, options.HotKeyShare);
        Assert.Equal(10, options.HotKeyMinRate);
        Assert.Throws<InvalidOperationException>(() => NodeServer.LoadOptions(["--hotkey-share", "2"]));

        // boolean switches take redis-server's yes / no too
        options = NodeServer.LoadOptions(["--hotkey-replication", "no", "--hotkey-detection", "YES", "--hotkey-max-value-size", "8kb"]);
        Assert.False(options.HotKeyReplication);
        Assert.True(options.HotKeyDetection);
        Assert.Equal(8192, options.HotKeyMaxValueBytes);
        Assert.True(NodeServer.LoadOptions([]).HotKeyReplication);
        var error = Assert.ThrowsAny<Exception>(() => NodeServer.LoadOptions(["--hotkey-replication", "maybe"]));
        Assert.Contains("HotKeyReplication", error.Message);
        Assert.Throws<InvalidOperationException>(() => NodeServer.LoadOptions(["--hotkey-max-value-size", "3gb"]));
        Assert.Throws<InvalidOperationException>(() => NodeServer.LoadOptions(["--hotkey-max-value-size", "lots"]));
    }
}
