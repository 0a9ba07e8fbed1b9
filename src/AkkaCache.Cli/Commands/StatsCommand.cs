using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace AkkaCache.Cli.Commands;

/// <summary><c>akkacache stats</c>: a top-like view from the differences between successive INFO samples of every node.</summary>
public static class StatsCommand
{
    public static Command Build(GlobalOptions globals)
    {
        var once = new Option<bool>("--once") { Description = "One sample (two INFO readings --interval apart), then exit: for scripts and tests." };
        var interval = new Option<double>("--interval") { Description = "Seconds between samples.", DefaultValueFactory = _ => 1 };
        interval.Validators.Add(r => { if (r.GetValueOrDefault<double>() is < 0.1 or > 3600) r.AddError("--interval must be between 0.1 and 3600 seconds."); });
        var command = new Command("stats", "Live per-node ops/s, hit rate, evictions/s, expirations/s and p50/p99 latency (where the node reports it); Ctrl+C to stop.");
        command.Options.Add(once);
        command.Options.Add(interval);
        globals.SetAction(command, (context, parsed) => RunAsync(context, parsed.GetValue(once), TimeSpan.FromSeconds(parsed.GetValue(interval))));
        return command;
    }

    /// <summary>One node over one interval; null figures are unknown (the node did not answer both samples, or does not report them).</summary>
    public sealed record NodeStats(string Node, string Status, double? OpsPerSecond, double? HitRate, double? EvictionsPerSecond,
        double? ExpirationsPerSecond, long? Keys, long? MemoryUsed, string? LatencyCommand, double? P50Micros, double? P99Micros,
        Dictionary<string, LatencyFigures> Latencies);

    public sealed record LatencyFigures(double P50Micros, double P99Micros);

    private static async Task<int> RunAsync(CliContext context, bool once, TimeSpan interval)
    {
        var state = await context.ReadStateAsync();
        var members = state.Members.Where(m => m.Registered).ToList();
        var previous = await context.InfoOfEachAsync(members);
        var taken = Stopwatch.GetTimestamp();

        async Task<List<NodeStats>> NextAsync()
        {
            await Task.Delay(interval, context.Cancellation);
            var current = await context.InfoOfEachAsync(members);
            double seconds = Stopwatch.GetElapsedTime(taken).TotalSeconds;
            taken = Stopwatch.GetTimestamp();
            var rows = members.Select(m => Compute(m.Id, previous[m.Id], current[m.Id], seconds)).ToList();
            previous = current;
            return rows;
        }

        if (once || context.Json && !context.Console.OutputIsTerminal)
        {
            var rows = await NextAsync();
            if (context.Json) context.WriteJson(rows);
            else context.Console.Ansi.Write(Render(rows));
            return ExitCodes.Ok;
        }
        try
        {
            if (context.Console.OutputIsTerminal && !context.Json)
            {
                await context.Console.Ansi.Live(new Text("sampling ...")).StartAsync(async live =>
                {
                    while (true)
                    {
                        live.UpdateTarget(Render(await NextAsync()));
                        live.Refresh();
                    }
                });
            }
            while (true)
            {
                var rows = await NextAsync();
                if (context.Json) context.WriteJson(rows);
                else context.Console.Ansi.Write(Render(rows));
            }
        }
        catch (OperationCanceledException) when (context.Cancellation.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
    }

    public static NodeStats Compute(string node, InfoFields? before, InfoFields? after, double seconds)
    {
        var latencies = after?.Latencies().ToDictionary(l => l.Key, l => new LatencyFigures(l.Value.P50, l.Value.P99)) ?? [];
        if (before is null || after is null || seconds <= 0)
            return new NodeStats(node, "no answer", null, null, null, null, after?.Keys, after?.Long("used_memory"), null, null, null, latencies);
        double Rate(string field) => Math.Round(Math.Max(0, after.Long(field) - before.Long(field)) / seconds, 1);
        long hits = after.Long("keyspace_hits") - before.Long("keyspace_hits");
        long misses = after.Long("keyspace_misses") - before.Long("keyspace_misses");
        // the sampling INFO itself is one of the commands counted
        double ops = Math.Round(Math.Max(0, after.Long("total_commands_processed") - before.Long("total_commands_processed") - 1) / seconds, 1);
        string? command = latencies.ContainsKey("get") ? "get" : latencies.Keys.Order(StringComparer.Ordinal).FirstOrDefault();
        var figures = command is null ? null : latencies[command];
        return new NodeStats(node, "up", ops, hits + misses == 0 ? null : Math.Round(hits * 100.0 / (hits + misses), 1),
            Rate("evicted_keys"), Rate("expired_keys"), after.Keys, after.Long("used_memory"), command, figures?.P50Micros, figures?.P99Micros, latencies);
    }

    private static Table Render(List<NodeStats> rows)
    {
        static string Show(double? value, string unit = "") => value is { } v && !double.IsNaN(v) ? v.ToString("0.#", CultureInfo.InvariantCulture) + unit : "n/a";
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("Node", "Ops/s", "Hit rate", "Evictions/s", "Expirations/s", "Keys", "Memory", "p50", "p99");
        foreach (var row in rows)
            table.AddRow(Markup.Escape(row.Node), Show(row.OpsPerSecond), Show(row.HitRate, "%"), Show(row.EvictionsPerSecond), Show(row.ExpirationsPerSecond),
                row.Keys?.ToString(CultureInfo.InvariantCulture) ?? "n/a", row.MemoryUsed is { } m ? CliContext.Bytes(m) : "n/a",
                row.LatencyCommand is null ? "n/a" : $"{Show(row.P50Micros, "µs")} ({row.LatencyCommand})",
                row.LatencyCommand is null ? "n/a" : $"{Show(row.P99Micros, "µs")} ({row.LatencyCommand})");
        return table;
    }
}
