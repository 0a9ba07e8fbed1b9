using System.CommandLine;
using System.Globalization;
using System.Text;
using Spectre.Console;

namespace AkkaCache.Cli.Commands;

/// <summary><c>akkacache slowlog</c>: SLOWLOG GET from every node (Redis's reply format), newest first.</summary>
public static class SlowlogCommand
{
    public static Command Build(GlobalOptions globals)
    {
        var count = new Option<int>("--count") { Description = "Entries per node.", DefaultValueFactory = _ => 10 };
        count.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--count must be at least 1."); });
        var command = new Command("slowlog", "The slowest recent commands of every node (SLOWLOG GET).");
        command.Options.Add(count);
        globals.SetAction(command, (context, parsed) => RunAsync(context, parsed.GetValue(count)));
        return command;
    }

    public sealed record SlowlogEntry(string Node, long Id, DateTimeOffset Time, long DurationMicros, string[] Command, string Client, string ClientName);

    private static async Task<int> RunAsync(CliContext context, int count)
    {
        var state = await context.ReadStateAsync();
        var live = state.Members.Where(m => m.Registered).ToList();
        var answers = await context.AskEachAsync(live, "SLOWLOG", "GET", count.ToString(CultureInfo.InvariantCulture));
        var entries = new List<SlowlogEntry>();
        int unsupported = 0;
        foreach (var (node, answer) in answers.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (answer.Error is { } error)
            {
                if (error.StartsWith("ERR unknown command", StringComparison.Ordinal))
                {
                    unsupported++;
                    context.Warn($"{node} does not implement SLOWLOG (its akkacache-server predates it)");
                }
                else context.Warn($"{node}: {error}");
                continue;
            }
            foreach (var item in answer.Reply!.Items ?? [])
            {
                if (item.Items is not { Count: >= 4 } f) continue;
                entries.Add(new SlowlogEntry(node, f[0].Integer, DateTimeOffset.FromUnixTimeSeconds(f[1].Integer), f[2].Integer,
                    f[3].Items?.Select(a => a.Bytes is { } b ? Encoding.UTF8.GetString(b) : a.ToString()).ToArray() ?? [],
                    f.Count > 4 ? f[4].AsString() ?? "" : "", f.Count > 5 ? f[5].AsString() ?? "" : ""));
            }
        }
        if (answers.Count > 0 && unsupported == answers.Count)
            throw new CliException(ExitCodes.NodeError, "no node implements SLOWLOG; upgrade akkacache-server");
        if (answers.Values.All(a => a.Error is not null))
            throw new CliException(ExitCodes.NodeError, "no node answered SLOWLOG GET (see the messages above)");
        entries = [.. entries.OrderByDescending(e => e.Time).ThenByDescending(e => e.DurationMicros)];
        if (context.Json)
        {
            context.WriteJson(entries);
            return ExitCodes.Ok;
        }
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Node", "Id", "Time (UTC)", "Duration µs", "Command", "Client");
        foreach (var e in entries)
            table.AddRow(Markup.Escape(e.Node), e.Id.ToString(CultureInfo.InvariantCulture), e.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                e.DurationMicros.ToString(CultureInfo.InvariantCulture), Markup.Escape(string.Join(' ', e.Command)), Markup.Escape(e.Client));
        context.Console.Ansi.Write(table);
        context.Console.Out.WriteLine($"Count: {entries.Count} entries");
        return ExitCodes.Ok;
    }
}
