using System.CommandLine;

namespace AkkaCache.Cli.Commands;

/// <summary><c>akkacache flush --all</c>: FLUSHALL on every member, after a confirmation.</summary>
public static class FlushCommand
{
    public static Command Build(GlobalOptions globals)
    {
        var all = new Option<bool>("--all") { Description = "Required: remove every key on every node of the cluster." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation (required when stdin is not a terminal)." };
        var command = new Command("flush", "Remove every key from the whole cluster (FLUSHALL on every node). Asks first.");
        command.Options.Add(all);
        command.Options.Add(yes);
        command.Validators.Add(r =>
        {
            if (!r.GetValue(all)) r.AddError("flush removes every key of the cluster; say so with --all (akkacache flush --all).");
        });
        globals.SetAction(command, (context, parsed) => RunAsync(context, parsed.GetValue(yes)));
        return command;
    }

    public sealed record FlushResult(string Cluster, string[] Flushed, Dictionary<string, string> Failed);

    private static async Task<int> RunAsync(CliContext context, bool yes)
    {
        var state = await context.ReadStateAsync();
        var live = state.Members.Where(m => m.Registered).ToList();
        if (!yes)
        {
            if (!context.Console.InputIsTerminal)
                throw new CliException(ExitCodes.Aborted, "refusing to flush without --yes: stdin is not a terminal, so nobody can confirm");
            await context.Console.Out.WriteAsync($"Remove EVERY key on all {live.Count} nodes of cluster '{state.Cluster}'? Type 'yes' to confirm: ");
            await context.Console.Out.FlushAsync();
            var answer = await context.Console.In.ReadLineAsync(context.Cancellation);
            if (!string.Equals(answer?.Trim(), "yes", StringComparison.OrdinalIgnoreCase))
                throw new CliException(ExitCodes.Aborted, "not confirmed; nothing was flushed");
        }
        var answers = await context.AskEachAsync(live, "FLUSHALL");
        var result = new FlushResult(state.Cluster,
            [.. answers.Where(a => a.Value.Error is null).Select(a => a.Key).Order(StringComparer.Ordinal)],
            answers.Where(a => a.Value.Error is not null).ToDictionary(a => a.Key, a => a.Value.Error!));
        if (context.Json) context.WriteJson(result);
        else context.Console.Out.WriteLine($"Flushed {result.Flushed.Length} of {live.Count} nodes of cluster '{state.Cluster}'.");
        foreach (var (node, error) in result.Failed) context.Warn($"{node} was not flushed: {error}");
        return result.Failed.Count == 0 ? ExitCodes.Ok : ExitCodes.NodeError;
    }
}
