using System.Text;
using AkkaCache.Core.Keyspace;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>
/// COMMAND, COMMAND COUNT / INFO / DOCS / LIST / GETKEYS over <see cref="CommandTable"/>, in Redis 7's reply shapes.
/// ACL categories and key-spec flags are derived from the command flags and group (the table does not carry them).
/// </summary>
internal static partial class ServerCommands
{
    private static readonly Subcommand[] CommandSubcommands =
    [
        new("COUNT", 2, CommandFlags.Loading | CommandFlags.Stale, "COUNT", "Return the total number of commands in this Redis server.", "2.8.13"),
        new("LIST", -2, CommandFlags.Loading | CommandFlags.Stale, "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]", "Return a list of all commands in this Redis server.", "7.0.0"),
        new("INFO", -2, CommandFlags.Loading | CommandFlags.Stale, "INFO [<command-name> ...]", "Return details about multiple Redis commands. If no command names are given, documentation details for all commands are returned.", "2.8.13"),
        new("DOCS", -2, CommandFlags.Loading | CommandFlags.Stale, "DOCS [<command-name> ...]", "Return documentation details about multiple Redis commands. If no command names are given, documentation details for all commands are returned.", "7.0.0"),
        new("GETKEYS", -3, CommandFlags.Loading | CommandFlags.Stale, "GETKEYS <full-command>", "Return the keys from a full Redis command.", "2.8.13"),
        new("GETKEYSANDFLAGS", -3, CommandFlags.Loading | CommandFlags.Stale, "GETKEYSANDFLAGS <full-command>", "Return the keys and the access flags from a full Redis command.", "7.0.0"),
        new("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, "HELP", "Returns helpful text about the different subcommands.", "5.0.0"),
    ];

    /// <summary>Redis versions that introduced the commands (COMMAND DOCS "since"), for the commands a node may define.</summary>
    private static readonly Dictionary<string, string> Since = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ping"] = "1.0.0", ["echo"] = "1.0.0", ["quit"] = "1.0.0", ["reset"] = "6.2.0", ["select"] = "1.0.0", ["auth"] = "1.0.0",
        ["hello"] = "6.0.0", ["client"] = "2.4.0", ["time"] = "2.6.0", ["lastsave"] = "1.0.0", ["role"] = "2.8.12", ["debug"] = "1.0.0",
        ["info"] = "1.0.0", ["config"] = "2.0.0", ["command"] = "2.8.13", ["memory"] = "4.0.0", ["object"] = "2.2.3", ["dbsize"] = "1.0.0",
        ["flushall"] = "1.0.0", ["flushdb"] = "1.0.0", ["function"] = "7.0.0",
        ["get"] = "1.0.0", ["set"] = "1.0.0", ["setnx"] = "1.0.0", ["setex"] = "2.0.0", ["psetex"] = "2.6.0", ["getset"] = "1.0.0",
        ["getdel"] = "6.2.0", ["getex"] = "6.2.0", ["mget"] = "1.0.0", ["mset"] = "1.0.1", ["msetnx"] = "1.0.1", ["incr"] = "1.0.0",
        ["decr"] = "1.0.0", ["incrby"] = "1.0.0", ["decrby"] = "1.0.0", ["incrbyfloat"] = "2.6.0", ["append"] = "2.0.0", ["strlen"] = "2.2.0",
        ["getrange"] = "2.4.0", ["setrange"] = "2.2.0", ["substr"] = "1.0.0", ["lcs"] = "7.0.0", ["del"] = "1.0.0", ["unlink"] = "4.0.0",
        ["exists"] = "1.0.0", ["expire"] = "1.0.0", ["pexpire"] = "2.6.0", ["expireat"] = "1.2.0", ["pexpireat"] = "2.6.0",
        ["expiretime"] = "7.0.0", ["pexpiretime"] = "7.0.0", ["ttl"] = "1.0.0", ["pttl"] = "2.6.0", ["persist"] = "2.2.0", ["type"] = "1.0.0",
        ["keys"] = "1.0.0", ["scan"] = "2.8.0", ["randomkey"] = "1.0.0", ["rename"] = "1.0.0", ["renamenx"] = "1.0.0", ["touch"] = "3.2.1",
        ["copy"] = "6.2.0", ["multi"] = "1.2.0", ["exec"] = "1.2.0", ["discard"] = "2.0.0", ["watch"] = "2.2.0", ["unwatch"] = "2.2.0",
        ["wait"] = "3.0.0", ["subscribe"] = "2.0.0", ["unsubscribe"] = "2.0.0", ["psubscribe"] = "2.0.0", ["punsubscribe"] = "2.0.0",
        ["publish"] = "2.0.0", ["pubsub"] = "2.8.0",
    };

    private static void Command(ClientSession session, in Request request)
    {
        if (request.Count == 1)
        {
            var all = AllCommands();
            session.Writer.WriteArrayHeader(all.Count);
            foreach (var command in all) WriteCommandInfo(session.Writer, command);
            return;
        }
        if (!TryResolve(session, request, "COMMAND", CommandSubcommands, out var sub)) return;
        var writer = session.Writer;
        switch (sub.Name)
        {
            case "COUNT":
                writer.WriteInteger(CommandTable.All.Count);
                break;
            case "INFO":
                if (request.Count == 2)
                {
                    var all = AllCommands();
                    writer.WriteArrayHeader(all.Count);
                    foreach (var command in all) WriteCommandInfo(writer, command);
                    break;
                }
                writer.WriteArrayHeader(request.Count - 2);
                for (int i = 2; i < request.Count; i++)
                {
                    var entry = Lookup(Text(request[i]));
                    if (entry is null) writer.WriteNull();
                    else WriteCommandInfo(writer, entry);
                }
                break;
            case "DOCS":
            {
                List<CommandEntry> entries;
                if (request.Count == 2)
                {
                    entries = AllCommands();
                }
                else
                {
                    entries = [];
                    for (int i = 2; i < request.Count; i++)
                        if (Lookup(Text(request[i])) is { } entry) entries.Add(entry);
                }
                writer.WriteMapHeader(entries.Count);
                foreach (var entry in entries)
                {
                    writer.WriteBulkString(entry.FullName);
                    WriteCommandDocs(writer, entry);
                }
                break;
            }
            case "LIST":
                CommandList(session, request);
                break;
            case "GETKEYS":
            case "GETKEYSANDFLAGS":
                GetKeys(session, request, withFlags: sub.Name == "GETKEYSANDFLAGS");
                break;
            default:
                WriteHelp(session, "COMMAND", CommandSubcommands);
                break;
        }
    }

    /// <summary>A command or a subcommand as COMMAND describes it.</summary>
    private sealed record CommandEntry(
        string FullName, int Arity, CommandFlags Flags, int FirstKey, int LastKey, int Step, string Group, string Summary,
        IReadOnlyList<CommandEntry> Subcommands);

    private static List<CommandEntry> AllCommands() =>
        CommandTable.All.OrderBy(c => c.LowerName, StringComparer.Ordinal).Select(Describe).ToList();

    private static CommandEntry Describe(CommandDefinition command)
    {
        var subs = SubcommandsOf(command.Name);
        if (subs is null)
            return new CommandEntry(command.LowerName, command.Arity, command.Flags, command.FirstKey, command.LastKey, command.Step, command.Group, command.Summary, []);
        var children = subs
            .Select(s => new CommandEntry($"{command.LowerName}|{s.Name.ToLowerInvariant()}", s.Arity, s.Flags, s.FirstKey, s.LastKey, s.Step, command.Group, s.Summary, []))
            .ToList();
        // a container has no keys of its own; its keyed subcommands describe theirs
        return new CommandEntry(command.LowerName, command.Arity, command.Flags & ~CommandFlags.AllShards, 0, 0, 0, command.Group, command.Summary, children);
    }

    /// <summary>"get", "GET" or "client|list" (Redis's full subcommand names); null if unknown.</summary>
    private static CommandEntry? Lookup(string name)
    {
        int bar = name.IndexOf('|', StringComparison.Ordinal);
        string top = bar < 0 ? name : name[..bar];
        if (!CommandTable.TryGet(top, out var command)) return null;
        var entry = Describe(command);
        if (bar < 0) return entry;
        string full = $"{command.LowerName}|{name[(bar + 1)..].ToLowerInvariant()}";
        return entry.Subcommands.FirstOrDefault(s => s.FullName == full);
    }

    private static void WriteCommandInfo(RespWriter writer, CommandEntry entry)
    {
        writer.WriteArrayHeader(10);
        writer.WriteBulkString(entry.FullName);
        writer.WriteInteger(entry.Arity);
        var flags = FlagNames(entry.Flags).ToList();
        writer.WriteSetHeader(flags.Count);
        foreach (var flag in flags) writer.WriteSimpleString(flag);
        writer.WriteInteger(entry.FirstKey);
        writer.WriteInteger(entry.FirstKey > 0 ? entry.LastKey : 0);
        writer.WriteInteger(entry.FirstKey > 0 ? entry.Step : 0);
        var categories = AclCategories(entry).ToList();
        writer.WriteSetHeader(categories.Count);
        foreach (var category in categories) writer.WriteSimpleString("@" + category);
        writer.WriteSetHeader(0); // tips
        WriteKeySpecs(writer, entry);
        writer.WriteArrayHeader(entry.Subcommands.Count);
        foreach (var sub in entry.Subcommands) WriteCommandInfo(writer, sub);
    }

    /// <summary>The key spec of a command with keys: begin_search by index, find_keys by range (Redis's legacy-range form).</summary>
    private static void WriteKeySpecs(RespWriter writer, CommandEntry entry)
    {
        if (entry.FirstKey <= 0)
        {
            writer.WriteArrayHeader(0);
            return;
        }
        writer.WriteArrayHeader(1);
        writer.WriteMapHeader(3);
        writer.WriteBulkString("flags"u8);
        var flags = KeySpecFlags(entry.Flags);
        writer.WriteSetHeader(flags.Length);
        foreach (var flag in flags) writer.WriteSimpleString(flag);
        writer.WriteBulkString("begin_search"u8);
        writer.WriteMapHeader(2);
        writer.WriteBulkString("type"u8);
        writer.WriteBulkString("index"u8);
        writer.WriteBulkString("spec"u8);
        writer.WriteMapHeader(1);
        writer.WriteBulkString("index"u8);
        writer.WriteInteger(entry.FirstKey);
        writer.WriteBulkString("find_keys"u8);
        writer.WriteMapHeader(2);
        writer.WriteBulkString("type"u8);
        writer.WriteBulkString("range"u8);
        writer.WriteBulkString("spec"u8);
        writer.WriteMapHeader(3);
        writer.WriteBulkString("lastkey"u8);
        writer.WriteInteger(entry.LastKey >= 0 ? entry.LastKey - entry.FirstKey : entry.LastKey);
        writer.WriteBulkString("keystep"u8);
        writer.WriteInteger(entry.Step);
        writer.WriteBulkString("limit"u8);
        writer.WriteInteger(0);
    }

    private static string[] KeySpecFlags(CommandFlags flags) =>
        (flags & CommandFlags.Write) != 0 ? ["RW", "update"]
        : (flags & CommandFlags.ReadOnly) != 0 ? ["RO", "access"]
        : ["RO"];

    private static IEnumerable<string> FlagNames(CommandFlags flags)
    {
        if ((flags & CommandFlags.Write) != 0) yield return "write";
        if ((flags & CommandFlags.ReadOnly) != 0) yield return "readonly";
        if ((flags & CommandFlags.DenyOom) != 0) yield return "denyoom";
        if ((flags & CommandFlags.Admin) != 0) yield return "admin";
        if ((flags & CommandFlags.PubSub) != 0) yield return "pubsub";
        if ((flags & CommandFlags.Loading) != 0) yield return "loading";
        if ((flags & CommandFlags.Stale) != 0) yield return "stale";
        if ((flags & CommandFlags.Fast) != 0) yield return "fast";
        if ((flags & CommandFlags.NoAuth) != 0) yield return "no_auth";
    }

    /// <summary>Redis's ACL categories, in the order COMMAND INFO lists them.</summary>
    private static readonly string[] CategoryOrder =
    [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo", "stream",
        "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
    ];

    /// <summary>Categories Redis gives these commands beyond what their flags and group imply.</summary>
    private static readonly Dictionary<string, string[]> ExtraCategories = new(StringComparer.Ordinal)
    {
        ["flushall"] = ["keyspace", "dangerous"], ["flushdb"] = ["keyspace", "dangerous"], ["dbsize"] = ["keyspace"],
        ["info"] = ["dangerous"], ["keys"] = ["dangerous"], ["role"] = ["admin", "dangerous"], ["lastsave"] = ["admin", "dangerous"],
        ["memory|usage"] = ["read"], ["object|encoding"] = ["read"], ["object|freq"] = ["read"], ["object|idletime"] = ["read"],
        ["object|refcount"] = ["read"],
    };

    /// <summary>ACL categories derived from the flags (write, read, admin + dangerous, fast or slow), the group and <see cref="ExtraCategories"/>.</summary>
    private static IEnumerable<string> AclCategories(CommandEntry entry)
    {
        var flags = entry.Flags;
        var set = new HashSet<string>(StringComparer.Ordinal);
        if ((flags & CommandFlags.Write) != 0) set.Add("write");
        if ((flags & CommandFlags.ReadOnly) != 0) set.Add("read");
        if ((flags & CommandFlags.Admin) != 0)
        {
            set.Add("admin");
            set.Add("dangerous");
        }
        if ((flags & CommandFlags.PubSub) != 0) set.Add("pubsub");
        set.Add((flags & CommandFlags.Fast) != 0 ? "fast" : "slow");
        string? group = entry.Group switch
        {
            "string" => "string",
            "generic" => "keyspace",
            "connection" => "connection",
            "transactions" => "transaction",
            "scripting" => "scripting",
            "bitmap" => "bitmap",
            "hyperloglog" => "hyperloglog",
            "list" => "list",
            "set" => "set",
            "sorted-set" => "sortedset",
            "hash" => "hash",
            "stream" => "stream",
            "geo" => "geo",
            "pubsub" => "pubsub",
            _ => null,
        };
        if (group is not null) set.Add(group);
        if (ExtraCategories.TryGetValue(entry.FullName, out var extra)) set.UnionWith(extra);
        return CategoryOrder.Where(set.Contains);
    }

    private static void WriteCommandDocs(RespWriter writer, CommandEntry entry)
    {
        string baseName = entry.FullName;
        string? since = null;
        int bar = baseName.IndexOf('|', StringComparison.Ordinal);
        if (bar >= 0)
        {
            var subs = SubcommandsOf(baseName[..bar]);
            since = subs?.FirstOrDefault(s => s.Name.Equals(baseName[(bar + 1)..], StringComparison.OrdinalIgnoreCase))?.Since;
        }
        else
        {
            Since.TryGetValue(baseName, out since);
        }

        int pairs = 2 + (since is null ? 0 : 1) + (entry.Subcommands.Count > 0 ? 1 : 0);
        writer.WriteMapHeader(pairs);
        writer.WriteBulkString("summary"u8);
        writer.WriteBulkString(entry.Summary);
        if (since is not null)
        {
            writer.WriteBulkString("since"u8);
            writer.WriteBulkString(since);
        }
        writer.WriteBulkString("group"u8);
        writer.WriteBulkString(entry.Group);
        if (entry.Subcommands.Count > 0)
        {
            writer.WriteBulkString("subcommands"u8);
            writer.WriteMapHeader(entry.Subcommands.Count);
            foreach (var sub in entry.Subcommands)
            {
                writer.WriteBulkString(sub.FullName);
                WriteCommandDocs(writer, sub);
            }
        }
    }

    /// <summary>COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: names, subcommands included.</summary>
    private static void CommandList(ClientSession session, in Request request)
    {
        Func<CommandEntry, bool> filter = _ => true;
        if (request.Count != 2)
        {
            if (request.Count != 5 || !Ascii.EqualsIgnoreCase(request[2], "FILTERBY"u8))
            {
                session.Writer.WriteError("ERR syntax error");
                return;
            }
            string argument = Text(request[4]);
            if (Ascii.EqualsIgnoreCase(request[3], "MODULE"u8)) filter = _ => false; // no modules
            else if (Ascii.EqualsIgnoreCase(request[3], "ACLCAT"u8))
                filter = e => AclCategories(e).Contains(argument.ToLowerInvariant(), StringComparer.Ordinal);
            else if (Ascii.EqualsIgnoreCase(request[3], "PATTERN"u8)) filter = e => Glob.IsMatch(argument, e.FullName, ignoreCase: true);
            else
            {
                session.Writer.WriteError("ERR syntax error");
                return;
            }
        }
        var names = new List<string>();
        foreach (var entry in AllCommands())
        {
            if (filter(entry)) names.Add(entry.FullName);
            foreach (var sub in entry.Subcommands)
                if (filter(sub)) names.Add(sub.FullName);
        }
        session.Writer.WriteArrayHeader(names.Count);
        foreach (var name in names) session.Writer.WriteBulkString(name);
    }

    /// <summary>COMMAND GETKEYS / GETKEYSANDFLAGS command arg ...: the keys by the command's (or subcommand's) key positions.</summary>
    private static void GetKeys(ClientSession session, in Request request, bool withFlags)
    {
        var writer = session.Writer;
        int argc = request.Count - 2;
        var entry = Lookup(Text(request[2]));
        if (entry is not null && entry.Subcommands.Count > 0 && argc >= 2)
        {
            string full = entry.FullName + "|" + Text(request[3]).ToLowerInvariant();
            entry = entry.Subcommands.FirstOrDefault(s => s.FullName == full) ?? entry;
        }
        if (entry is null)
        {
            writer.WriteError("ERR Invalid command specified");
            return;
        }
        if (entry.FirstKey <= 0)
        {
            writer.WriteError("ERR The command has no key arguments");
            return;
        }
        if (entry.Arity > 0 && entry.Arity != argc || argc < -entry.Arity)
        {
            writer.WriteError("ERR Invalid number of arguments specified for command");
            return;
        }
        int last = entry.LastKey >= 0 ? Math.Min(entry.LastKey, argc - 1) : argc + entry.LastKey;
        var positions = new List<int>();
        for (int i = entry.FirstKey; i <= last; i += Math.Max(1, entry.Step)) positions.Add(i);
        if (positions.Count == 0)
        {
            writer.WriteError("ERR Invalid arguments specified for command");
            return;
        }
        writer.WriteArrayHeader(positions.Count);
        var flags = KeySpecFlags(entry.Flags);
        foreach (int position in positions)
        {
            if (!withFlags)
            {
                writer.WriteBulkString(request[position + 2]);
                continue;
            }
            writer.WriteArrayHeader(2);
            writer.WriteBulkString(request[position + 2]);
            writer.WriteSetHeader(flags.Length);
            foreach (var flag in flags) writer.WriteSimpleString(flag);
        }
    }
}
