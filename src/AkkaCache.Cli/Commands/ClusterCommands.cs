using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace AkkaCache.Cli.Commands;

/// <summary><c>akkacache cluster show | leader | leave | down | join | sharding regions | sharding shard-stats</c>, in the words of Petabridge.Cmd's <c>pbm</c>.</summary>
public static class ClusterCommands
{
    /// <summary>How long <c>cluster show</c> watches each node's command counter to tell its ops/s.</summary>
    private static readonly TimeSpan OpsSample = TimeSpan.FromMilliseconds(500);

    public static Command Build(GlobalOptions globals)
    {
        var cluster = new Command("cluster", "Members of the cluster: show them, find the leader, drain or declare a node down.");

        var show = new Command("show", "Every member: address, zone, status (and Akka's), roles, shards, memory, keys, ops/s, quorum lease; the leader and the map epoch.");
        globals.SetAction(show, (context, _) => ShowAsync(context));
        cluster.Subcommands.Add(show);

        var leader = new Command("leader", "The member that computes the shard map, and the map's epoch.");
        globals.SetAction(leader, (context, _) => LeaderAsync(context));
        cluster.Subcommands.Add(leader);

        var wait = new Option<double>("--wait") { Description = "Seconds to wait for the operation to finish.", DefaultValueFactory = _ => 120 };
        wait.Validators.Add(r => { if (r.GetValueOrDefault<double>() <= 0) r.AddError("--wait must be a positive number of seconds."); });

        cluster.Subcommands.Add(NodeCommand(globals, "leave", "Gracefully drain a node: it hands every shard to the others, then leaves; shows the progress until it is done.",
            "drain", wait, LeaveAsync));
        cluster.Subcommands.Add(NodeCommand(globals, "down", "Declare a node dead now (it is killed, hung or unreachable): Akka's Down; its replicas are promoted without waiting for the split brain resolver.",
            "declare dead", wait, DownAsync));

        var address = new Argument<string>("address") { Description = "host:cluster-port (or akka.tcp://name@host:port) of a member of the cluster to join." };
        var join = new Command("join", "Join the node at --host to the cluster of the seed at <address> (Akka's Join).");
        join.Arguments.Add(address);
        globals.SetAction(join, (context, parsed) => JoinAsync(context, parsed.GetValue(address)!));
        cluster.Subcommands.Add(join);

        var sharding = new Command("sharding", "The shard regions and their shards.");
        var regions = new Command("regions", "The shard region types and the members hosting them.");
        globals.SetAction(regions, (context, _) => ShardStatsAsync(context, regionsOnly: true));
        sharding.Subcommands.Add(regions);
        var stats = new Command("shard-stats", "Per member: shards led, shards replicated, keys.");
        globals.SetAction(stats, (context, _) => ShardStatsAsync(context, regionsOnly: false));
        sharding.Subcommands.Add(stats);
        cluster.Subcommands.Add(sharding);
        return cluster;
    }

    /// <summary>The one shard region type: every cache member hosts the shards of the keyspace.</summary>
    public const string RegionType = "akkacache-shards";

    private static async Task<int> JoinAsync(CliContext context, string address)
    {
        await using var node = await context.ConnectAsync(context.Host);
        var reply = await node.CallAsync(context.Cancellation, "CLUSTER", "JOIN", address);
        if (reply.IsError) throw new CliException(ExitCodes.NodeError, $"{context.Host} refused to join {address}: {reply.AsString()}");
        if (context.Json) context.WriteJson(new { node = context.Host, joining = address });
        else context.Console.Out.WriteLine($"{context.Host} is joining the cluster of {address}; see akkacache cluster show");
        return ExitCodes.Ok;
    }

    public sealed record ShardStatsRow(string Node, string Region, int ShardsLed, int ShardsReplicated, long? Keys);

    public sealed record ShardStats(string Cluster, string Region, int ShardCount, List<ShardStatsRow> Members, int TotalLed, long TotalKeys);

    private static async Task<int> ShardStatsAsync(CliContext context, bool regionsOnly)
    {
        var state = await context.ReadStateAsync();
        var members = state.Members.Where(m => m.Registered && m.Roles.Contains("akkacache")).ToList();
        var infos = regionsOnly ? [] : await context.InfoOfEachAsync(members, "keyspace");
        var rows = members.Select(m => new ShardStatsRow(m.Id, RegionType, state.PrimaryCount(m.Id), state.ReplicaShardCount(m.Id),
            regionsOnly ? null : infos[m.Id]?.Keys)).ToList();
        var stats = new ShardStats(state.Cluster, RegionType, state.ShardCount, rows, rows.Sum(r => r.ShardsLed), rows.Sum(r => r.Keys ?? 0));
        if (context.Json)
        {
            if (regionsOnly) context.WriteJson(new { cluster = state.Cluster, regions = new[] { new { type = RegionType, shards = state.ShardCount, members = rows.Select(r => r.Node).ToArray() } } });
            else context.WriteJson(stats);
            return ExitCodes.Ok;
        }
        var table = new Table().Border(TableBorder.Rounded).AddColumns(regionsOnly ? ["Region", "Member", "Shards led", "Replicas"] : ["Member", "Shards led", "Replicas", "Keys"]);
        foreach (var row in rows)
        {
            if (regionsOnly) table.AddRow(RegionType, Markup.Escape(row.Node), Number(row.ShardsLed), Number(row.ShardsReplicated));
            else table.AddRow(Markup.Escape(row.Node), Number(row.ShardsLed), Number(row.ShardsReplicated), row.Keys is { } keys ? Number(keys) : "n/a");
        }
        context.Console.Ansi.Write(table);
        context.Console.Ansi.WriteLine(regionsOnly
            ? $"Region {RegionType}: {state.ShardCount} shards on {rows.Count} members"
            : $"Total: {stats.TotalLed} of {state.ShardCount} shards led, {stats.TotalKeys} keys");
        return ExitCodes.Ok;
    }

    /// <summary>A command acting on one member, given by id, within --wait.</summary>
    private static Command NodeCommand(GlobalOptions globals, string name, string description, string verb, Option<double> wait,
        Func<CliContext, string, TimeSpan, Task<int>> run)
    {
        var node = new Argument<string>("node") { Description = $"The id of the member to {verb} (see cluster show)." };
        var command = new Command(name, description);
        command.Arguments.Add(node);
        command.Options.Add(wait);
        globals.SetAction(command, (context, parsed) => run(context, parsed.GetValue(node)!, TimeSpan.FromSeconds(parsed.GetValue(wait))));
        return command;
    }

    /// <summary>One row of <c>cluster show</c>.</summary>
    public sealed record MemberRow(
        string Id, string Address, string? Zone, string Status, bool Leader, int PrimaryShards, int ReplicaShards,
        long? MemoryUsed, long? MemoryMax, long? Keys, double? OpsPerSecond, string[] Roles, string AkkaStatus, bool? LeaseValid, string? Error);

    public sealed record ClusterShow(string Cluster, long Epoch, string? Leader, int ShardCount, int ReplicaCount, List<MemberRow> Nodes, int Count);

    private static async Task<int> ShowAsync(CliContext context)
    {
        var state = await context.ReadStateAsync();
        var first = await context.InfoOfEachAsync(state.Members);
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(OpsSample, context.Cancellation);
        var second = await context.InfoOfEachAsync(state.Members, "stats");
        double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;

        var rows = state.Members.Select(member =>
        {
            var info = first[member.Id];
            var later = second[member.Id];
            // the second INFO itself is one of the commands counted
            double? ops = info is not null && later is not null
                ? Math.Max(0, later.Long("total_commands_processed") - info.Long("total_commands_processed") - 1) / elapsed
                : null;
            return new MemberRow(member.Id, member.Endpoint, member.Zone, Status(member, info), member.Id == state.Leader,
                state.PrimaryCount(member.Id), state.ReplicaShardCount(member.Id),
                info?.Long("used_memory"), info?.Long("maxmemory"), info?.Keys, ops is { } o ? Math.Round(o, 1) : null,
                member.Roles, member.Status, info is null ? null : info["cluster_lease_valid"] == "1",
                info is null ? "no answer to INFO" : null);
        }).ToList();
        var show = new ClusterShow(state.Cluster, state.Epoch, state.Leader, state.ShardCount, state.ReplicaCount, rows, rows.Count);
        if (context.Json)
        {
            context.WriteJson(show);
            return ExitCodes.Ok;
        }
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("Id", "Address", "Zone", "Status", "Akka", "Roles", "Primary", "Replica", "Memory used/max", "Keys", "Ops/s", "Quorum lease");
        foreach (var row in rows)
        {
            table.AddRow(
                Markup.Escape(row.Leader ? row.Id + " (leader)" : row.Id), Markup.Escape(row.Address), Markup.Escape(row.Zone ?? "-"), StatusMarkup(row.Status),
                Markup.Escape(row.AkkaStatus), Markup.Escape(row.Roles.Length == 0 ? "-" : string.Join(",", row.Roles)),
                Number(row.PrimaryShards), Number(row.ReplicaShards),
                row.MemoryUsed is { } used ? $"{CliContext.Bytes(used)} / {(row.MemoryMax is > 0 and var max ? CliContext.Bytes(max) : "unlimited")}" : "n/a",
                row.Keys is { } keys ? Number(keys) : "n/a",
                row.OpsPerSecond is { } ops ? ops.ToString("0.#", CultureInfo.InvariantCulture) : "n/a",
                row.LeaseValid switch { true => "held", false => "lapsed", null => "-" });
        }
        var console = context.Console.Ansi;
        console.Write(table);
        console.WriteLine($"Cluster: {state.Cluster}  Epoch: {state.Epoch}  Leader: {state.Leader ?? "none"}  Shards: {state.ShardCount} ({state.ReplicaCount} replica(s) each)");
        console.WriteLine($"Count: {rows.Count} nodes");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// up: an Up member, in the map, answering. joining: a member, not in the map yet. leaving: draining (cluster leave)
    /// or Leaving/Exiting in Akka's terms. down: Down or Removed, or only the map still names it. unreachable: Akka's
    /// failure detector says so. suspect: a member but not answering this tool. fenced: answering but refusing to serve
    /// because no majority vouched for it lately (INFO cluster_lease_valid:0).
    /// </summary>
    public static string Status(MemberReply member, InfoFields? info)
    {
        if (!member.Registered) return "down";
        if (member.Leaving) return "leaving";
        if (member.Status == "Unreachable") return "unreachable";
        if (info is null) return "suspect";
        if (info["cluster_lease_valid"] == "0") return "fenced";
        return member.InMap ? "up" : "joining";
    }

    private static string StatusMarkup(string status) => status switch
    {
        "up" => "[green]up[/]",
        "joining" or "leaving" => $"[yellow]{status}[/]",
        _ => $"[red]{status}[/]",
    };

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static async Task<int> LeaderAsync(CliContext context)
    {
        var state = await context.ReadStateAsync();
        var leader = state.Leader is null ? null : state.Member(state.Leader);
        if (context.Json)
        {
            context.WriteJson(new { leader = state.Leader, address = leader?.Endpoint, epoch = state.Epoch, cluster = state.Cluster });
            return state.Leader is null ? ExitCodes.Failed : ExitCodes.Ok;
        }
        if (state.Leader is null)
        {
            context.Warn($"cluster '{state.Cluster}' has no leader right now (an election is under way, or no node holds a lease); try again in a few seconds");
            return ExitCodes.Failed;
        }
        context.Console.Out.WriteLine($"{state.Leader} {leader?.Endpoint} (epoch {state.Epoch})");
        return ExitCodes.Ok;
    }

    /// <summary>Where a drain stands: shards still held by the node, bytes it has streamed to the new owners.</summary>
    public sealed record LeaveProgress(string Node, int ShardsTotal, int ShardsMoved, long BytesMoved, long BytesTotal, bool Left, string? Error);

    private static async Task<int> LeaveAsync(CliContext context, string nodeId, TimeSpan wait)
    {
        var state = await context.ReadStateAsync();
        var member = state.RequireMember(nodeId);
        if (!member.Registered) throw new CliException(ExitCodes.NodeError, $"node '{nodeId}' is down already (Down or removed); nothing to drain — its shards fail over to replicas");
        int total = state.HeldCount(nodeId);
        long bytesSentBefore, bytesTotal;
        await using (var node = await context.ConnectAsync(member.Endpoint))
        {
            var info = new InfoFields((await node.ExpectAsync(context.Cancellation, "INFO", "everything")).AsString() ?? "");
            bytesSentBefore = info.Long("cluster_migration_bytes_sent");
            bytesTotal = info.Long("used_memory_dataset");
            await node.ExpectAsync(context.Cancellation, "CLUSTER", "LEAVE");
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        var progress = new LeaveProgress(nodeId, total, 0, 0, bytesTotal, false, null);
        async Task<LeaveProgress> PollAsync()
        {
            // the leaving node's byte counter while it still answers; the map (through --host, or another member) for the shards
            long bytes = progress.BytesMoved;
            try
            {
                await using var node = await context.ConnectAsync(member.Endpoint);
                var reply = await node.CallAsync(context.Cancellation, "INFO", "cluster");
                if (!reply.IsError) bytes = Math.Max(bytes, new InfoFields(reply.AsString() ?? "").Long("cluster_migration_bytes_sent") - bytesSentBefore);
            }
            catch (CliException)
            {
                // gone: it left (or died) — the map says which
            }
            var now = await ReadStateFromAnyAsync(context, state, except: nodeId);
            var self = now.Member(nodeId);
            int held = now.HeldCount(nodeId);
            bool left = self is null || !self.Registered;
            string? error = left && held > 0
                ? $"node '{nodeId}' gave up its lease before handing off {held} shard(s); they fail over to replicas (writes not yet replicated may be lost)"
                : null;
            return new LeaveProgress(nodeId, total, Math.Max(0, total - held), bytes, Math.Max(bytesTotal, bytes), left, error);
        }

        bool timedOut = false;
        if (!context.Json && context.Console.OutputIsTerminal)
        {
            await context.Console.Ansi.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async live =>
                {
                    var shards = live.AddTask($"shards of {Markup.Escape(nodeId)}", maxValue: Math.Max(1, total));
                    var bytes = live.AddTask("bytes streamed", maxValue: Math.Max(1, bytesTotal));
                    while (!progress.Left)
                    {
                        if (Stopwatch.GetTimestamp() > deadline) { timedOut = true; break; }
                        await Task.Delay(250, context.Cancellation);
                        progress = await PollAsync();
                        shards.Value = progress.ShardsMoved;
                        bytes.MaxValue = Math.Max(1, progress.BytesTotal);
                        bytes.Value = progress.BytesMoved;
                    }
                    shards.Value = shards.MaxValue;
                    if (progress.Left) bytes.Value = bytes.MaxValue;
                });
        }
        else
        {
            string last = "";
            while (!progress.Left)
            {
                if (Stopwatch.GetTimestamp() > deadline) { timedOut = true; break; }
                await Task.Delay(250, context.Cancellation);
                progress = await PollAsync();
                string line = $"{nodeId}: shards moved {progress.ShardsMoved}/{progress.ShardsTotal}, bytes streamed {CliContext.Bytes(progress.BytesMoved)}";
                if (!context.Json && line != last) context.Console.Out.WriteLine(line);
                last = line;
            }
        }

        if (timedOut) progress = progress with { Error = $"node '{nodeId}' had not left after {wait.TotalSeconds:0}s ({progress.ShardsMoved}/{progress.ShardsTotal} shards moved); it is still draining — run cluster show to follow it, or --wait longer" };
        if (context.Json) context.WriteJson(progress);
        else if (progress.Error is null) context.Console.Out.WriteLine($"{nodeId} left the cluster: {progress.ShardsTotal} shard(s) handed off, {CliContext.Bytes(progress.BytesMoved)} streamed.");
        if (progress.Error is not null) context.Warn(progress.Error);
        return timedOut ? ExitCodes.Timeout : progress.Error is null ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>The state through --host, or, when that is the node going away, through another member.</summary>
    private static async Task<ClusterStateReply> ReadStateFromAnyAsync(CliContext context, ClusterStateReply known, string except)
    {
        var self = known.Member(except);
        bool hostIsLeaving = self is not null && SameEndpoint(context.Host, self.Endpoint);
        if (!hostIsLeaving)
        {
            try { return await context.ReadStateAsync(); }
            catch (CliException e) when (e.ExitCode is ExitCodes.Connection or ExitCodes.Timeout) { }
        }
        CliException? lastError = null;
        foreach (var other in known.Members.Where(m => m.Id != except && m.Registered))
        {
            try
            {
                await using var node = await context.ConnectAsync(other.Endpoint);
                return await context.ReadStateAsync(node);
            }
            catch (CliException e) { lastError = e; }
        }
        throw lastError ?? new CliException(ExitCodes.Connection, $"no member of cluster '{known.Cluster}' other than '{except}' answers — use --host to name one");
    }

    private static bool SameEndpoint(string a, string b)
    {
        var x = NodeClient.ParseEndpoint(a);
        var y = NodeClient.ParseEndpoint(b);
        return x.Port == y.Port && (x.Host == y.Host || IsLoopback(x.Host) && IsLoopback(y.Host));
    }

    private static bool IsLoopback(string host) => host is "localhost" or "127.0.0.1" or "::1";

    /// <summary>The outcome of <c>cluster down</c>.</summary>
    public sealed record DownResult(string Node, string Outcome, long Epoch, int ShardsFailedOver, int ShardsWithoutPrimary);

    private static async Task<int> DownAsync(CliContext context, string nodeId, TimeSpan wait)
    {
        var state = await context.ReadStateAsync();
        var member = state.RequireMember(nodeId);
        int primaries = state.PrimaryCount(nodeId);
        // ask a node other than the one declared dead: it may not answer, and a node cannot down itself
        var asker = SameEndpoint(context.Host, member.Endpoint)
            ? state.Members.FirstOrDefault(m => m.Id != nodeId && m.Registered)
              ?? throw new CliException(ExitCodes.NodeError, $"no other live member to act for '{nodeId}': a cluster of one cannot declare its only node down")
            : null;
        string outcome;
        await using (var node = await context.ConnectAsync(asker?.Endpoint ?? context.Host))
        {
            var reply = await node.ExpectAsync(context.Cancellation, "CLUSTER", "DOWN", nodeId);
            outcome = reply.AsString() switch
            {
                "ALREADYDOWN" => "already down",
                // Akka's Down: the member is removed; if it is alive its quorum lease is refused, and it rejoins empty
                _ => "marked down",
            };
        }

        // done when the map no longer names it as primary of anything: its replicas were promoted (or nobody could be)
        var deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var now = await ReadStateFromAnyAsync(context, state, except: nodeId);
            // a downed node that lives rejoins as a new incarnation; once the map names it, the old one's shards were failed over
            bool rejoined = now.Member(nodeId) is { Registered: true, InMap: true } again && again.Incarnation != member.Incarnation;
            if (now.PrimaryCount(nodeId) == 0 || rejoined)
            {
                int orphaned = now.Shards.Count(s => s.Primary is null);
                var result = new DownResult(nodeId, outcome, now.Epoch, primaries, orphaned);
                if (context.Json) context.WriteJson(result);
                else context.Console.Out.WriteLine($"{nodeId} {outcome}: {primaries} shard(s) it led failed over to replicas (epoch {now.Epoch}).");
                if (outcome == "declared down" && !context.Json)
                    context.Console.Out.WriteLine($"{nodeId} did not answer: if it is alive after all, it stops serving at its next lease renewal and rejoins empty.");
                if (orphaned > 0) context.Warn($"{orphaned} shard(s) have no primary (no live replica held them): their slots answer CLUSTERDOWN until a node joins");
                return ExitCodes.Ok;
            }
            if (Stopwatch.GetTimestamp() > deadline)
                throw new CliException(ExitCodes.Timeout, $"'{nodeId}' was {outcome}, but after {wait.TotalSeconds:0}s the map still names it primary of {now.PrimaryCount(nodeId)} shard(s) — is there a leader? (akkacache cluster leader)");
            await Task.Delay(200, context.Cancellation);
        }
    }
}
