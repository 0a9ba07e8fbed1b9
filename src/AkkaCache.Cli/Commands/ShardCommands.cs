using System.CommandLine;
using Spectre.Console;

namespace AkkaCache.Cli.Commands;

/// <summary><c>akkacache shards show</c>.</summary>
public static class ShardCommands
{
    private const int SlotCount = 16384;

    public static Command Build(GlobalOptions globals)
    {
        var shards = new Command("shards", "The shard map: which node leads and replicates each shard's slots.");
        var node = new Option<string?>("--node") { Description = "Only the shards this member holds (as primary, replica or import target)." };
        var show = new Command("show", "Shard → slots, primary, replicas, and the node it is migrating to.");
        show.Options.Add(node);
        globals.SetAction(show, (context, parsed) => ShowAsync(context, parsed.GetValue(node)));
        shards.Subcommands.Add(show);
        return shards;
    }

    public sealed record ShardRow(int Shard, int FirstSlot, int LastSlot, string? Primary, string[] Replicas, string? MigratingTo);

    private static async Task<int> ShowAsync(CliContext context, string? nodeId)
    {
        var state = await context.ReadStateAsync();
        if (nodeId is not null) state.RequireMember(nodeId);
        int perShard = state.ShardCount == 0 ? 0 : SlotCount / state.ShardCount;
        var rows = state.Shards
            .Select((s, i) => new ShardRow(i, i * perShard, (i + 1) * perShard - 1, s.Primary, s.Replicas, s.MigratingTo))
            .Where(r => nodeId is null || r.Primary == nodeId || r.MigratingTo == nodeId || r.Replicas.Contains(nodeId))
            .ToList();
        if (context.Json)
        {
            context.WriteJson(new { cluster = state.Cluster, epoch = state.Epoch, shardCount = state.ShardCount, shards = rows });
            return ExitCodes.Ok;
        }
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Shard", "Slots", "Primary", "Replicas", "Migrating to");
        foreach (var row in rows)
            table.AddRow(row.Shard.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{row.FirstSlot}-{row.LastSlot}",
                Markup.Escape(row.Primary ?? "(none)"), Markup.Escape(row.Replicas.Length == 0 ? "-" : string.Join(", ", row.Replicas)),
                Markup.Escape(row.MigratingTo ?? "-"));
        context.Console.Ansi.Write(table);
        context.Console.Out.WriteLine($"Epoch: {state.Epoch}  Count: {rows.Count} of {state.ShardCount} shards");
        return ExitCodes.Ok;
    }
}
