using System.Globalization;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>INFO commandstats and latencystats, LATENCY HISTOGRAM: one set of per-command counters behind all three.</summary>
public sealed class CommandStatsTests : ConnectedNodeTest
{
    private static Dictionary<string, string> Fields(string line) =>
        line.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);

    private async Task<Dictionary<string, string>> Info(string section) => ServerCommandConfigTests.Info(await Send("INFO", section));

    [Fact]
    public async Task Commandstats_count_calls_time_rejections_and_failures()
    {
        (await Send("SET", "n", "1")).AssertOk();
        (await Send("SET", "s", "text")).AssertOk();
        Assert.Equal("1", (await Send("GET", "n")).Text());
        (await Send("GET")).AssertError("ERR wrong number of arguments for 'get' command");
        (await Send("INCR", "s")).AssertError("ERR value is not an integer or out of range");
        Assert.Equal(2, (await Send("INCR", "n")).Int());

        var info = await Info("commandstats");
        var set = Fields(info["cmdstat_set"]);
        Assert.Equal("2", set["calls"]);
        Assert.Equal("0", set["rejected_calls"]);
        Assert.Equal("0", set["failed_calls"]);
        long usec = long.Parse(set["usec"], CultureInfo.InvariantCulture);
        Assert.Equal((usec / 2.0).ToString("F2", CultureInfo.InvariantCulture), set["usec_per_call"]);
        var get = Fields(info["cmdstat_get"]);
        Assert.Equal(("1", "1", "0"), (get["calls"], get["rejected_calls"], get["failed_calls"]));
        var incr = Fields(info["cmdstat_incr"]);
        Assert.Equal(("2", "0", "1"), (incr["calls"], incr["rejected_calls"], incr["failed_calls"]));
        Assert.False(info.ContainsKey("cmdstat_del"));
        Assert.Equal(["calls", "usec", "usec_per_call", "rejected_calls", "failed_calls"], Fields(info["cmdstat_set"]).Keys);
    }

    [Fact]
    public async Task Latencystats_report_percentiles_per_command()
    {
        for (int i = 0; i < 10; i++) await Send("SET", "k", "v");
        var info = await Info("latencystats");
        var set = Fields(info["latency_percentiles_usec_set"]);
        Assert.Equal(["p50", "p99", "p99.9"], set.Keys);
        double p50 = double.Parse(set["p50"], CultureInfo.InvariantCulture), p99 = double.Parse(set["p99"], CultureInfo.InvariantCulture);
        Assert.True(p50 >= 1 && p50 <= p99, $"p50 {p50}, p99 {p99}");
        Assert.Matches(@"^\d+\.000$", set["p50"]);
        Assert.False(info.ContainsKey("latency_percentiles_usec_get"));
    }

    [Fact]
    public async Task Latency_histogram_has_redis_7_shape_and_agrees_with_commandstats()
    {
        for (int i = 0; i < 5; i++) await Send("SET", "k", "v");
        await Send("GET", "k");
        var reply = await Send("LATENCY", "HISTOGRAM", "set", "GET", "nosuchcommand", "del");
        // RESP2: the maps are flat arrays
        Assert.Equal(4, reply.Items!.Count);
        Assert.Equal("set", reply.Items[0].Text());
        Assert.Equal("get", reply.Items[2].Text());
        var set = reply.Items[1].Items!;
        Assert.Equal("calls", set[0].Text());
        Assert.Equal(5, set[1].Int());
        Assert.Equal("histogram_usec", set[2].Text());
        var points = set[3].Items!.Select(v => v.Int()).ToList();
        Assert.True(points.Count >= 2 && points.Count % 2 == 0);
        for (int i = 0; i < points.Count; i += 2)
        {
            Assert.True(long.IsPow2(points[i]), $"bucket {points[i]} is not a power of two");
            if (i > 0) Assert.True(points[i] > points[i - 2] && points[i + 1] > points[i - 1]);
        }
        Assert.Equal(5, points[^1]);
        Assert.Equal("calls=5", (await Info("commandstats"))["cmdstat_set"].Split(',')[0]);

        (await Send("HELLO", "3")).Type.ToString();
        var resp3 = await Send("LATENCY", "HISTOGRAM", "get");
        Assert.Equal(RespType.Map, resp3.Type);
        var all = await Send("LATENCY", "HISTOGRAM");
        Assert.Equal(RespType.Map, all.Type);
        Assert.Contains("hello", all.Items!.Where((_, i) => i % 2 == 0).Select(v => v.Text()));
    }

    [Fact]
    public async Task Counts_of_closed_connections_and_transactions_are_kept_and_resetstat_clears_them()
    {
        await using (var other = await Node.ConnectAsync())
        {
            (await other.SendAsync("MULTI")).AssertOk();
            await other.SendAsync("SET", "a", "1");
            await other.SendAsync("DEL", "a");
            Assert.Equal(2, (await other.SendAsync("EXEC")).Items!.Count);
        }
        await Poll.UntilAsync(async () => (await Send("CLIENT", "LIST")).Text().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 1, "the other client is gone");
        var info = await Info("commandstats");
        Assert.StartsWith("calls=1,", info["cmdstat_set"]);
        Assert.StartsWith("calls=1,", info["cmdstat_del"]);
        Assert.StartsWith("calls=1,", info["cmdstat_exec"]);
        Assert.StartsWith("calls=1,", info["cmdstat_multi"]);

        (await Send("CONFIG", "RESETSTAT")).AssertOk();
        info = await Info("commandstats");
        Assert.False(info.ContainsKey("cmdstat_set"));
        Assert.Empty((await Send("LATENCY", "HISTOGRAM", "set")).Items!);
    }

    [Fact]
    public async Task Latency_subcommands_and_errors()
    {
        Assert.Empty((await Send("LATENCY", "LATEST")).Items!);
        Assert.Empty((await Send("LATENCY", "HISTORY", "command")).Items!);
        Assert.Equal(0, (await Send("LATENCY", "RESET")).Int());
        (await Send("LATENCY", "NOPE")).AssertError("ERR unknown subcommand 'NOPE'. Try LATENCY HELP.");
        (await Send("LATENCY", "HISTORY")).AssertError("ERR wrong number of arguments for 'latency|history' command");
        Assert.Contains("HISTOGRAM [<command> ...]", (await Send("LATENCY", "HELP")).Items!.Select(i => i.Text()));
    }
}
