using System.Globalization;
using AkkaCache.Protocol;
using AkkaCache.Server.Diagnostics;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>SLOWLOG and LATENCY over the node's <see cref="SlowLog"/> and per-command histograms, in Redis 7's reply shapes.</summary>
internal static partial class ServerCommands
{
    private static readonly Subcommand[] SlowLogSubcommands =
    [
        new("GET", -2, AdminFlags, "GET [<count>]", "Return top <count> entries from the slowlog (default: 10, -1 mean all).", "2.2.12"),
        new("LEN", 2, AdminFlags, "LEN", "Return the length of the slowlog.", "2.2.12"),
        new("RESET", 2, AdminFlags, "RESET", "Reset the slowlog.", "2.2.12"),
        new("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, "HELP", "Returns helpful text about the different subcommands.", "6.2.0"),
    ];

    private static readonly Subcommand[] LatencySubcommands =
    [
        new("HISTOGRAM", -2, AdminFlags, "HISTOGRAM [<command> ...]", "Return a cumulative distribution of latencies in the format of a histogram for the specified command names. If no commands are specified then all histograms are replied.", "7.0.0"),
        new("LATEST", 2, AdminFlags, "LATEST", "Return the latest latency samples for all events.", "2.8.13"),
        new("HISTORY", 3, AdminFlags, "HISTORY <event>", "Return time-latency samples for the <event> class.", "2.8.13"),
        new("RESET", -2, AdminFlags, "RESET [<event> ...]", "Reset latency data of one or more <event> classes. (default: reset all data for all event classes)", "2.8.13"),
        new("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, "HELP", "Returns helpful text about the different subcommands.", "2.8.13"),
    ];

    private static void RegisterDiagnostics(List<CommandDefinition> list)
    {
        list.Add(new CommandDefinition("SLOWLOG", -2, CommandFlags.None, 0, 0, 0, SlowLogCommand, Server, "A container for slow log commands."));
        list.Add(new CommandDefinition("LATENCY", -2, CommandFlags.None, 0, 0, 0, Latency, Server, "A container for latency diagnostics commands."));
    }

    private static void SlowLogCommand(ClientSession session, in Request request)
    {
        if (!TryResolve(session, request, "SLOWLOG", SlowLogSubcommands, out var sub)) return;
        var writer = session.Writer;
        var log = session.Node.SlowLog;
        switch (sub.Name)
        {
            case "GET":
            {
                long count = 10;
                if (request.Count == 3)
                {
                    if (!RespNumbers.TryParseInt64(request[2], out count))
                    {
                        writer.WriteError("ERR value is not an integer or out of range");
                        return;
                    }
                    if (count < -1)
                    {
                        writer.WriteError("ERR count should be greater than or equal to -1");
                        return;
                    }
                }
                else if (request.Count > 3)
                {
                    writer.WriteError("ERR wrong number of arguments for 'slowlog|get' command");
                    return;
                }
                var entries = log.Newest(count);
                writer.WriteArrayHeader(entries.Count);
                foreach (var entry in entries)
                {
                    writer.WriteArrayHeader(6);
                    writer.WriteInteger(entry.Id);
                    writer.WriteInteger(entry.UnixSeconds);
                    writer.WriteInteger(entry.Microseconds);
                    writer.WriteArrayHeader(entry.Arguments.Length);
                    foreach (var argument in entry.Arguments) writer.WriteBulkString(argument);
                    writer.WriteBulkString(entry.ClientAddress);
                    writer.WriteBulkString(entry.ClientName);
                }
                break;
            }
            case "LEN":
                writer.WriteInteger(log.Count);
                break;
            case "RESET":
                log.Reset();
                writer.WriteOk();
                break;
            default:
                // Redis's own text: GET's summary spans several lines
                string[] lines =
                [
                    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "GET [<count>]",
                    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                    "    Entries are made of:",
                    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                    "    client name",
                    "LEN",
                    "    Return the length of the slowlog.",
                    "RESET",
                    "    Reset the slowlog.",
                    "HELP",
                    "    Print this help.",
                ];
                writer.WriteArrayHeader(lines.Length);
                foreach (var line in lines) writer.WriteSimpleString(line);
                break;
        }
    }

    private static void Latency(ClientSession session, in Request request)
    {
        if (!TryResolve(session, request, "LATENCY", LatencySubcommands, out var sub)) return;
        var writer = session.Writer;
        switch (sub.Name)
        {
            case "HISTOGRAM":
                WriteLatencyHistograms(session, request);
                break;
            // the latency monitor (latency-monitor-threshold) is off, as in a default Redis: no events to report
            case "LATEST":
            case "HISTORY":
                writer.WriteArrayHeader(0);
                break;
            case "RESET":
                writer.WriteInteger(0);
                break;
            default:
                WriteHelp(session, "LATENCY", LatencySubcommands);
                break;
        }
    }

    /// <summary>
    /// Redis 7's LATENCY HISTOGRAM: a map of command name to {calls, histogram_usec}, histogram_usec mapping each
    /// power-of-two bucket (µs) to the calls that took at most that long, listed where that count grows. Commands
    /// named but unknown or never run are left out, as in Redis.
    /// </summary>
    private static void WriteLatencyHistograms(ClientSession session, in Request request)
    {
        var stats = session.Node.Clients.CommandStats.Snapshot();
        var selected = new List<(string Name, CommandCounters Counters)>();
        if (request.Count == 2)
        {
            for (int i = 0; i < stats.Length; i++)
                if (stats[i] is { Calls: > 0 } counters) selected.Add((CommandTable.ByIndex[i].LowerName, counters));
        }
        else
        {
            var seen = new HashSet<int>();
            for (int i = 2; i < request.Count; i++)
            {
                if (CommandTable.TryGet(request[i], out var command) && stats[command.Index] is { Calls: > 0 } counters && seen.Add(command.Index))
                    selected.Add((command.LowerName, counters));
            }
        }
        var writer = session.Writer;
        writer.WriteMapHeader(selected.Count);
        foreach (var (name, counters) in selected)
        {
            writer.WriteBulkString(name);
            writer.WriteMapHeader(2);
            writer.WriteBulkString("calls"u8);
            writer.WriteInteger(counters.Calls);
            writer.WriteBulkString("histogram_usec"u8);
            var points = new List<(long Limit, long Cumulative)>();
            long cumulative = 0;
            for (int bucket = 0; bucket < CommandCounters.BucketCount; bucket++)
            {
                if (counters.Buckets[bucket] == 0) continue;
                cumulative += counters.Buckets[bucket];
                points.Add((CommandCounters.BucketLimit(bucket), cumulative));
            }
            writer.WriteMapHeader(points.Count);
            foreach (var (limit, count) in points)
            {
                writer.WriteInteger(limit);
                writer.WriteInteger(count);
            }
        }
    }

    /// <summary>INFO commandstats lines, as Redis: cmdstat_get:calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=..</summary>
    internal static IEnumerable<(string Field, string Value)> CommandStatsLines(CommandCounters?[] stats)
    {
        for (int i = 0; i < stats.Length; i++)
        {
            if (stats[i] is not { } counters || counters.Calls + counters.Rejected + counters.Failed == 0) continue;
            long usec = CommandCounters.Microseconds(counters.ElapsedTicks);
            double perCall = counters.Calls == 0 ? 0 : (double)usec / counters.Calls;
            yield return ("cmdstat_" + CommandTable.ByIndex[i].LowerName, string.Create(CultureInfo.InvariantCulture,
                $"calls={counters.Calls},usec={usec},usec_per_call={perCall:F2},rejected_calls={counters.Rejected},failed_calls={counters.Failed}"));
        }
    }

    /// <summary>INFO latencystats lines, as Redis: latency_percentiles_usec_get:p50=..,p99=..,p99.9=.. (bucket upper bounds).</summary>
    internal static IEnumerable<(string Field, string Value)> LatencyStatsLines(CommandCounters?[] stats)
    {
        for (int i = 0; i < stats.Length; i++)
        {
            if (stats[i] is not { Calls: > 0 } counters) continue;
            yield return ("latency_percentiles_usec_" + CommandTable.ByIndex[i].LowerName, string.Create(CultureInfo.InvariantCulture,
                $"p50={counters.Percentile(50):F3},p99={counters.Percentile(99):F3},p99.9={counters.Percentile(99.9):F3}"));
        }
    }
}
