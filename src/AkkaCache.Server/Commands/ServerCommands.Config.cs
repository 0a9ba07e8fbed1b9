using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>CONFIG GET / SET / RESETSTAT / REWRITE over the node's <see cref="ConfigStore"/>.</summary>
internal static partial class ServerCommands
{
    private static readonly Subcommand[] ConfigSubcommands =
    [
        new("GET", -3, AdminFlags, "GET <pattern>", "Return parameters matching the glob-like <pattern> and their values.", "2.0.0"),
        new("SET", -4, AdminFlags, "SET <directive> <value>", "Set the configuration <directive> to <value>.", "2.0.0"),
        new("RESETSTAT", 2, AdminFlags, "RESETSTAT", "Reset statistics reported by the INFO command.", "2.0.0"),
        new("REWRITE", 2, AdminFlags, "REWRITE", "Rewrite the configuration file.", "2.8.0"),
        new("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, "HELP", "Returns helpful text about the different subcommands.", "5.0.0"),
    ];

    private static void Config(ClientSession session, in Request request)
    {
        if (!TryResolve(session, request, "CONFIG", ConfigSubcommands, out var sub)) return;
        var store = session.Node.Config;
        var writer = session.Writer;
        switch (sub.Name)
        {
            case "GET":
            {
                var patterns = new List<string>(request.Count - 2);
                for (int i = 2; i < request.Count; i++) patterns.Add(Text(request[i]));
                var matches = store.Match(patterns);
                writer.WriteMapHeader(matches.Count);
                foreach (var (name, value) in matches)
                {
                    writer.WriteBulkString(name);
                    writer.WriteBulkString(value);
                }
                break;
            }
            case "SET":
            {
                if (request.Count % 2 != 0)
                {
                    writer.WriteError("ERR syntax error");
                    return;
                }
                var pairs = new List<(string, string)>((request.Count - 2) / 2);
                for (int i = 2; i < request.Count; i += 2) pairs.Add((Text(request[i]), Text(request[i + 1])));
                string? error = store.Set(pairs);
                if (error is null) writer.WriteOk();
                else writer.WriteError(error);
                break;
            }
            case "RESETSTAT":
                store.ResetStats(InfoReport.CurrentCounters(session.Node));
                session.Node.Clients.CommandStats.Reset();
                writer.WriteOk();
                break;
            case "REWRITE":
                writer.WriteError("ERR The server is running without a config file");
                break;
            default:
                WriteHelp(session, "CONFIG", ConfigSubcommands);
                break;
        }
    }
}
