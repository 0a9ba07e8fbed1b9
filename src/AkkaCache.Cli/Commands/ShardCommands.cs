using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace AkkaCache.Cli.Commands;

/// <summary><c>akkacache shards show | move | unpin</c>.</summary>
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

        var shardArgument = new Argument<int>("shard") { Description = "The shard number (see shards show)." };
        var target = new Argument<string>("node") { Description = "The id of the member to move it to." };
        var wait = new Option<double>("--wait") { Description = "Seconds to wait for the move to finish.", DefaultValueFactory = _ => 120 };
        wait.Validators.Add(r => { if (r.GetValueOrDefault<double>() <= 0) r.AddError("--wait must be a positive number of seconds."); });
        var move = new Command("move", "Move a shard to a member and pin it there: the balancer evens out the load with other shards. Waits until the member leads it.");
        move.Arguments.Add(shardArgument);
        move.Arguments.Add(target);
        move.Options.Add(wait);
        globals.SetAction(move, (context, parsed) => MoveAsync(context, parsed.GetValue(shardArgument), parsed.GetValue(target)!, TimeSpan.FromSeconds(parsed.GetValue(wait))));
        shards.Subcommands.Add(move);

        var unpinShard = new Argument<int>("shard") { Description = "The shard number." };
        var unpin = new Command("unpin", "Let the balancer move a shard pinned by shards move again.");
        unpin.Arguments.Add(unpinShard);
        globals.SetAction(unpin, (context, parsed) => UnpinAsync(context, parsed.GetValue(unpinShard)));
        shards.Subcommands.Add(unpin);
        return shards;
    }

    public sealed record ShardRow(int Shard, int FirstSlot, int LastSlot, string? Primary, string[] Replicas, string? MigratingTo, string? PinnedTo);

    private static async Task<int> ShowAsync(CliContext context, string? nodeId)
    {
        var state = await context.ReadStateAsync();
        if (nodeId is not null) state.RequireMember(nodeId);
        int perShard = state.ShardCount == 0 ? 0 : SlotCount / state.ShardCount;
        var rows = state.Shards
            .Select((s, i) => new ShardRow(i, i * perShard, (i + 1) * perShard - 1, s.Primary, s.Replicas, s.MigratingTo, state.Pins.GetValueOrDefault(i)))
            .Where(r => nodeId is null || r.Primary == nodeId || r.MigratingTo == nodeId || r.Replicas.Contains(nodeId))
            .ToList();
        if (context.Json)
        {
            context.WriteJson(new { cluster = state.Cluster, epoch = state.Epoch, shardCount = state.ShardCount, shards = rows });
            return ExitCodes.Ok;
        }
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Shard", "Slots", "Primary", "Replicas", "Migrating to", "Pinned to");
        foreach (var row in rows)
            table.AddRow(row.Shard.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{row.FirstSlot}-{row.LastSlot}",
                Markup.Escape(row.Primary ?? "(none)"), Markup.Escape(row.Replicas.Length == 0 ? "-" : string.Join(", ", row.Replicas)),
                Markup.Escape(row.MigratingTo ?? "-"), Markup.Escape(row.PinnedTo ?? "-"));
        context.Console.Ansi.Write(table);
        context.Console.Out.WriteLine($"Epoch: {state.Epoch}  Count: {rows.Count} of {state.ShardCount} shards");
        return ExitCodes.Ok;
    }

    public sealed record MoveResult(int Shard, string? From, string To, long Epoch);

    private static async Task<int> MoveAsync(CliContext context, int shard, string nodeId, TimeSpan wait)
    {
        var state = await context.ReadStateAsync();
        if (shard < 0 || shard >= state.ShardCount)
            throw new CliException(ExitCodes.Usage, $"no shard {shard}: cluster '{state.Cluster}' has shards 0..{state.ShardCount - 1}");
        var member = state.RequireMember(nodeId);
        if (!member.Registered || member.Leaving)
            throw new CliException(ExitCodes.NodeError, $"node '{nodeId}' is {(member.Leaving ? "leaving" : "down")}: a shard can only move to a live member");
        string? from = state.Shards[shard].Primary;
        await using (var node = await context.ConnectAsync(context.Host))
            await node.ExpectAsync(context.Cancellation, "AC.SHARDPIN", shard.ToString(CultureInfo.InvariantCulture), nodeId);

        var deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        string last = "";
        while (true)
        {
            var now = await context.ReadStateAsync();
            var assignment = now.Shards[shard];
            if (assignment.Primary == nodeId && assignment.MigratingTo is null)
            {
                var result = new MoveResult(shard, from, nodeId, now.Epoch);
                if (context.Json) context.WriteJson(result);
                else context.Console.Out.WriteLine($"shard {shard} is led by {nodeId} (was {from ?? "nobody"}), pinned there; epoch {now.Epoch}.");
                return ExitCodes.Ok;
            }
            string line = assignment.MigratingTo == nodeId ? $"shard {shard}: migrating {assignment.Primary} -> {nodeId}" : $"shard {shard}: waiting for the leader";
            if (!context.Json && line != last) context.Console.Out.WriteLine(line);
            last = line;
            if (Stopwatch.GetTimestamp() > deadline)
                throw new CliException(ExitCodes.Timeout, $"shard {shard} had not reached {nodeId} after {wait.TotalSeconds:0}s (it stays pinned and may still get there) — is there a leader? (akkacache cluster leader)");
            await Task.Delay(200, context.Cancellation);
        }
    }

    private static async Task<int> UnpinAsync(CliContext context, int shard)
    {
        await using var node = await context.ConnectAsync(context.Host);
        var reply = await node.ExpectAsync(context.Cancellation, "AC.SHARDUNPIN", shard.ToString(CultureInfo.InvariantCulture));
        bool was = reply.Integer == 1;
        if (context.Json) context.WriteJson(new { shard, unpinned = was });
        else context.Console.Out.WriteLine(was ? $"shard {shard} unpinned: the balancer may move it again." : $"shard {shard} was not pinned.");
        return ExitCodes.Ok;
    }
}
