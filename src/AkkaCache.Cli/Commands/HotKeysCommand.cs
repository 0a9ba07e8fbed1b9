using System.CommandLine;
using System.Globalization;
using System.Text;
using Spectre.Console;

namespace AkkaCache.Cli.Commands;

/// <summary><c>akkacache hotkeys</c>: AC.HOTKEYS from every node, merged.</summary>
public static class HotKeysCommand
{
    public static Command Build(GlobalOptions globals)
    {
        var count = new Option<int>("--count") { Description = "Keys to show.", DefaultValueFactory = _ => 10 };
        count.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--count must be at least 1."); });
        var command = new Command("hotkeys", "The hottest keys of the whole cluster: every node's AC.HOTKEYS, merged (ops/s summed over the nodes that serve the key).");
        command.Options.Add(count);
        globals.SetAction(command, (context, parsed) => RunAsync(context, parsed.GetValue(count)));
        return command;
    }

    /// <summary>A hot key: <see cref="Nodes"/> counted it, <see cref="ReplicatedTo"/> hold a copy of it (it is promoted).</summary>
    public sealed record HotKeyRow(string Key, long OpsPerSecond, long Shard, string[] Nodes, string[] ReplicatedTo);

    private static async Task<int> RunAsync(CliContext context, int count)
    {
        var state = await context.ReadStateAsync();
        var live = state.Members.Where(m => m.Registered).ToList();
        var answers = await context.AskEachAsync(live, "AC.HOTKEYS", "COUNT", count.ToString(CultureInfo.InvariantCulture));
        var merged = new Dictionary<string, (long Ops, long Shard, List<string> Nodes, SortedSet<string> Copies)>(StringComparer.Ordinal);
        foreach (var (node, answer) in answers.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (answer.Error is not null)
            {
                context.Warn($"{node}: {answer.Error}");
                continue;
            }
            foreach (var item in answer.Reply!.Items ?? [])
            {
                // [key, ops/s, shard, [nodes holding a copy]]; nodes before hot-key replication answer the first three only
                if (item.Items is not { Count: >= 3 } fields) continue;
                string key = fields[0].Bytes is { } bytes ? Encoding.UTF8.GetString(bytes) : "";
                var entry = merged.GetValueOrDefault(key, (0, fields[2].Integer, [], new SortedSet<string>(StringComparer.Ordinal)));
                entry.Nodes.Add(node);
                if (fields.Count > 3)
                    foreach (var holder in fields[3].Items ?? []) if (holder.Bytes is { } id) entry.Copies.Add(Encoding.UTF8.GetString(id));
                merged[key] = (entry.Ops + fields[1].Integer, entry.Shard, entry.Nodes, entry.Copies);
            }
        }
        if (answers.Values.All(a => a.Error is not null))
            throw new CliException(ExitCodes.NodeError, "no node answered AC.HOTKEYS (see the messages above)");
        var rows = merged.Select(m => new HotKeyRow(m.Key, m.Value.Ops, m.Value.Shard, [.. m.Value.Nodes], [.. m.Value.Copies]))
            .OrderByDescending(r => r.OpsPerSecond).ThenBy(r => r.Key, StringComparer.Ordinal).Take(count).ToList();
        if (context.Json)
        {
            context.WriteJson(rows);
            return ExitCodes.Ok;
        }
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Key", "Ops/s", "Shard", "Nodes", "Copies on");
        foreach (var row in rows)
            table.AddRow(Markup.Escape(row.Key), row.OpsPerSecond.ToString(CultureInfo.InvariantCulture), row.Shard.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(string.Join(", ", row.Nodes)), row.ReplicatedTo.Length == 0 ? "-" : Markup.Escape(string.Join(", ", row.ReplicatedTo)));
        context.Console.Ansi.Write(table);
        context.Console.Out.WriteLine($"Count: {rows.Count} hot keys");
        return ExitCodes.Ok;
    }
}
