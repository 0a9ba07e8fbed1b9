using System.Security.Cryptography;
using System.Text;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>
/// Connection and server commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO, TIME, LASTSAVE, ROLE, DEBUG, FUNCTION,
/// INFO, DBSIZE, FLUSHALL/FLUSHDB (this file); CONFIG (ServerCommands.Config.cs); CLIENT (ServerCommands.Client.cs);
/// COMMAND (ServerCommands.Command.cs); MEMORY and OBJECT (ServerCommands.Memory.cs). Replies and errors use Redis 7's
/// wording, since client libraries match on it.
/// </summary>
internal static partial class ServerCommands
{
    private const string Connection = "connection";
    private const string Server = "server";

    private const CommandFlags ConnectionFlags = CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast;
    private const CommandFlags NoAuthFlags = ConnectionFlags | CommandFlags.NoAuth;

    /// <summary>Administrative subcommands (CONFIG, SLOWLOG, LATENCY): allowed while loading and on stale data, as in Redis.</summary>
    private const CommandFlags AdminFlags = CommandFlags.Admin | CommandFlags.Loading | CommandFlags.Stale;

    public static void Register(List<CommandDefinition> list)
    {
        list.Add(new CommandDefinition("PING", -1, CommandFlags.Fast | CommandFlags.SubscribedContext, 0, 0, 0, Ping, Connection, "Returns the server's liveliness response."));
        list.Add(new CommandDefinition("ECHO", 2, CommandFlags.Fast, 0, 0, 0, Echo, Connection, "Returns the given string."));
        list.Add(new CommandDefinition("QUIT", -1, NoAuthFlags | CommandFlags.NotQueued | CommandFlags.SubscribedContext, 0, 0, 0, Quit, Connection, "Closes the connection."));
        list.Add(new CommandDefinition("RESET", 1, NoAuthFlags | CommandFlags.NotQueued | CommandFlags.SubscribedContext, 0, 0, 0, Reset, Connection, "Resets the connection."));
        list.Add(new CommandDefinition("SELECT", 2, ConnectionFlags, 0, 0, 0, Select, Connection, "Changes the selected database."));
        list.Add(new CommandDefinition("AUTH", -2, NoAuthFlags, 0, 0, 0, Auth, Connection, "Authenticates the connection."));
        list.Add(new CommandDefinition("HELLO", -1, NoAuthFlags, 0, 0, 0, Hello, Connection, "Handshakes with the Redis server."));
        list.Add(new CommandDefinition("CLIENT", -2, CommandFlags.None, 0, 0, 0, Client, Connection, "A container for client connection commands."));
        list.Add(new CommandDefinition("TIME", 1, ConnectionFlags, 0, 0, 0, Time, Server, "Returns the server time."));
        list.Add(new CommandDefinition("LASTSAVE", 1, ConnectionFlags, 0, 0, 0, LastSave, Server, "Returns the Unix timestamp of the last successful save to disk."));
        list.Add(new CommandDefinition("ROLE", 1, ConnectionFlags, 0, 0, 0, Role, Server, "Returns the replication role."));
        list.Add(new CommandDefinition("DEBUG", -2, CommandFlags.Admin | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Debug, Server, "A container for debugging commands."));
        list.Add(new CommandDefinition("INFO", -1, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Info, Server, "Returns information and statistics about the server."));
        list.Add(new CommandDefinition("CONFIG", -2, CommandFlags.None, 0, 0, 0, Config, Server, "A container for server configuration commands."));
        list.Add(new CommandDefinition("COMMAND", -1, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Command, Server, "Returns detailed information about all commands."));
        // MEMORY USAGE / OBJECT <sub> take their key at index 2: the infrastructure enters its shard (the key-less
        // subcommands have fewer arguments, so no key position falls inside them)
        list.Add(new CommandDefinition("MEMORY", -2, CommandFlags.None, 2, 2, 1, Memory, Server, "A container for memory diagnostics commands."));
        list.Add(new CommandDefinition("OBJECT", -2, CommandFlags.None, 2, 2, 1, ObjectCommand, "generic", "A container for object introspection commands."));
        list.Add(new CommandDefinition("DBSIZE", 1, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.AllShards, 0, 0, 0, DbSize, Server, "Returns the number of keys in the database."));
        list.Add(new CommandDefinition("FLUSHALL", -1, CommandFlags.Write | CommandFlags.AllShards, 0, 0, 0, Flush, Server, "Removes all keys from all databases."));
        list.Add(new CommandDefinition("FLUSHDB", -1, CommandFlags.Write | CommandFlags.AllShards, 0, 0, 0, Flush, Server, "Remove all keys from the current database."));
        list.Add(new CommandDefinition("FUNCTION", -2, CommandFlags.None, 0, 0, 0, Function, "scripting", "A container for function commands."));
        RegisterPubSub(list);
        RegisterDiagnostics(list);
    }

    // ------------------------------------------------------------------ connection

    private static void Ping(ClientSession session, in Request request)
    {
        if (request.Count > 2)
        {
            session.Writer.WriteError("ERR wrong number of arguments for 'ping' command");
            return;
        }
        if (session.IsSubscribed && session.Protocol == RespVersion.Resp2)
        {
            // a RESP2 subscriber tells replies from messages by shape: PING answers as a two-element array
            session.Writer.WriteArrayHeader(2);
            session.Writer.WriteBulkString("pong"u8);
            session.Writer.WriteBulkString(request.Count == 1 ? default : request[1]);
            return;
        }
        if (request.Count == 1) session.Writer.WriteSimpleString("PONG"u8);
        else session.Writer.WriteBulkString(request[1]);
    }

    private static void Echo(ClientSession session, in Request request) => session.Writer.WriteBulkString(request[1]);

    private static void Quit(ClientSession session, in Request request)
    {
        session.Writer.WriteOk();
        session.CloseRequested = true;
    }

    /// <summary>RESET: the connection as if new (Redis's clearClientConnectionState): no transaction, watches, subscriptions or tracking, RESP2, no name, authentication as a new connection has it.</summary>
    private static void Reset(ClientSession session, in Request request)
    {
        session.LeaveAllSubscriptions();
        session.StopTracking();
        if (session.InTransaction) session.DiscardTransaction();
        else session.ClearWatches();
        session.Protocol = RespVersion.Resp2;
        session.Info.Name = null;
        session.Authenticated = string.IsNullOrEmpty(session.Node.Options.RequirePass);
        session.Writer.WriteSimpleString("RESET"u8);
    }

    private static void Select(ClientSession session, in Request request)
    {
        if (!RespNumbers.TryParseInt64(request[1], out long index) || index is < int.MinValue or > int.MaxValue)
        {
            session.Writer.WriteError("ERR value is not an integer or out of range");
            return;
        }
        if (index != 0)
        {
            session.Writer.WriteError("ERR DB index is out of range");
            return;
        }
        session.Writer.WriteOk();
    }

    private const string WrongPass = "WRONGPASS invalid username-password pair or user is disabled.";

    /// <summary>AUTH [username] password: only the "default" user exists; it has no password unless requirepass is set.</summary>
    private static void Auth(ClientSession session, in Request request)
    {
        if (request.Count > 3)
        {
            session.Writer.WriteError("ERR syntax error");
            return;
        }
        if (request.Count == 2 && string.IsNullOrEmpty(session.Node.Options.RequirePass))
        {
            session.Writer.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return;
        }
        var user = request.Count == 3 ? request[1] : "default"u8;
        if (!CheckPassword(session, user, request[request.Count - 1]))
        {
            session.Writer.WriteError(WrongPass);
            return;
        }
        session.Authenticated = true;
        session.Writer.WriteOk();
    }

    /// <summary>True when the pair names the default user and its password (any password when requirepass is unset, as Redis's "nopass").</summary>
    private static bool CheckPassword(ClientSession session, ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        if (!user.SequenceEqual("default"u8)) return false;
        string? required = session.Node.Options.RequirePass;
        if (string.IsNullOrEmpty(required)) return true;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(required), password);
    }

    /// <summary>HELLO [protover [AUTH username password] [SETNAME clientname]]</summary>
    private static void Hello(ClientSession session, in Request request)
    {
        var writer = session.Writer;
        long version = 0;
        int next = 1;
        if (request.Count >= 2)
        {
            if (!RespNumbers.TryParseInt64(request[1], out version))
            {
                writer.WriteError("ERR Protocol version is not an integer or out of range");
                return;
            }
            next = 2;
            if (version is < 2 or > 3)
            {
                writer.WriteError("NOPROTO unsupported protocol version");
                return;
            }
        }

        int authAt = -1, nameAt = -1;
        for (int i = next; i < request.Count; i++)
        {
            int more = request.Count - 1 - i;
            if (Ascii.EqualsIgnoreCase(request[i], "AUTH"u8) && more >= 2)
            {
                authAt = i + 1;
                i += 2;
            }
            else if (Ascii.EqualsIgnoreCase(request[i], "SETNAME"u8) && more >= 1)
            {
                nameAt = i + 1;
                i++;
            }
            else
            {
                writer.WriteError($"ERR Syntax error in HELLO option '{ClientSession.Printable(request[i], 128)}'");
                return;
            }
        }

        if (authAt > 0)
        {
            if (!CheckPassword(session, request[authAt], request[authAt + 1]))
            {
                writer.WriteError(WrongPass);
                return;
            }
            session.Authenticated = true;
        }
        if (!session.Authenticated)
        {
            writer.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        if (nameAt > 0 && !TrySetName(session, request[nameAt])) return;

        if (version != 0) session.Protocol = (RespVersion)(int)version;
        writer.WriteMapHeader(7);
        writer.WriteBulkString("server"u8);
        writer.WriteBulkString("redis"u8);
        writer.WriteBulkString("version"u8);
        writer.WriteBulkString(InfoReport.RedisVersion);
        writer.WriteBulkString("proto"u8);
        writer.WriteInteger((int)session.Protocol);
        writer.WriteBulkString("id"u8);
        writer.WriteInteger(session.Info.Id);
        writer.WriteBulkString("mode"u8);
        writer.WriteBulkString("standalone"u8);
        writer.WriteBulkString("role"u8);
        writer.WriteBulkString("master"u8);
        writer.WriteBulkString("modules"u8);
        writer.WriteArrayHeader(0);
    }

    // ------------------------------------------------------------------ server

    private static void Time(ClientSession session, in Request request)
    {
        long micros = InfoReport.UnixMicroseconds(session.Node.Time);
        session.Writer.WriteArrayHeader(2);
        session.Writer.WriteBulkString(micros / 1_000_000);
        session.Writer.WriteBulkString(micros % 1_000_000);
    }

    /// <summary>The node never saves; like a Redis that has not saved yet, it answers its start time.</summary>
    private static void LastSave(ClientSession session, in Request request) => session.Writer.WriteInteger(session.Node.StartedMs / 1000);

    private static void Role(ClientSession session, in Request request)
    {
        session.Writer.WriteArrayHeader(3);
        session.Writer.WriteBulkString("master"u8);
        session.Writer.WriteInteger(0);
        session.Writer.WriteArrayHeader(0);
    }

    /// <summary>DEBUG SLEEP 0 only (test suites use it as a round trip); the node has no other debugging hooks.</summary>
    private static void Debug(ClientSession session, in Request request)
    {
        if (Ascii.EqualsIgnoreCase(request[1], "SLEEP"u8) && request.Count == 3)
        {
            if (RespNumbers.TryParseDouble(request[2], out double seconds) && seconds == 0)
            {
                session.Writer.WriteOk();
                return;
            }
            session.Writer.WriteError("ERR DEBUG SLEEP is only supported with 0 seconds by AkkaCache");
            return;
        }
        session.Writer.WriteError($"ERR DEBUG {ClientSession.Printable(request[1], 128).ToUpperInvariant()} is not supported by AkkaCache");
    }

    private static void Info(ClientSession session, in Request request)
    {
        var names = new List<string>(request.Count - 1);
        for (int i = 1; i < request.Count; i++) names.Add(Encoding.UTF8.GetString(request[i]));
        string text = InfoReport.Build(session.Node, InfoReport.Parse(names));
        session.Writer.WriteVerbatimString("txt", text);
    }

    private static void DbSize(ClientSession session, in Request request)
    {
        long count = 0;
        foreach (var shard in session.Node.Engine.Shards)
            if (session.Leads(shard.Index)) count += shard.Table.Count;
        session.Writer.WriteInteger(count);
    }

    /// <summary>FLUSHALL / FLUSHDB [ASYNC|SYNC]: runs with every shard entered, so it is atomic; the memory is given back at once either way.</summary>
    private static void Flush(ClientSession session, in Request request)
    {
        if (request.Count > 2 || request.Count == 2 && !Ascii.EqualsIgnoreCase(request[1], "ASYNC"u8) && !Ascii.EqualsIgnoreCase(request[1], "SYNC"u8))
        {
            session.Writer.WriteError("ERR syntax error");
            return;
        }
        foreach (var shard in session.Node.Engine.Shards)
            if (session.Leads(shard.Index)) shard.Table.Clear();
        session.Writer.WriteOk();
    }

    // ------------------------------------------------------------------ FUNCTION (no scripting: an empty library)

    private static readonly Subcommand[] FunctionSubcommands =
    [
        new("FLUSH", -2, CommandFlags.Write, "FLUSH [ASYNC|SYNC]", "Deletes all libraries and functions.", "7.0.0"),
        new("LIST", -2, CommandFlags.None, "LIST [LIBRARYNAME <library-name-pattern>] [WITHCODE]", "Returns information about all libraries.", "7.0.0"),
        new("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, "HELP", "Returns helpful text about the different subcommands.", "7.0.0"),
    ];

    private static void Function(ClientSession session, in Request request)
    {
        if (!TryResolve(session, request, "FUNCTION", FunctionSubcommands, out var sub)) return;
        switch (sub.Name)
        {
            case "FLUSH":
                if (request.Count > 3)
                {
                    session.Writer.WriteError("ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.");
                    return;
                }
                if (request.Count == 3 && !Ascii.EqualsIgnoreCase(request[2], "ASYNC"u8) && !Ascii.EqualsIgnoreCase(request[2], "SYNC"u8))
                {
                    session.Writer.WriteError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
                    return;
                }
                session.Writer.WriteOk();
                break;
            case "LIST":
                session.Writer.WriteArrayHeader(0);
                break;
            default:
                WriteHelp(session, "FUNCTION", FunctionSubcommands);
                break;
        }
    }

    // ------------------------------------------------------------------ subcommands

    /// <summary>A subcommand of a container command (CLIENT LIST): what COMMAND INFO/DOCS show and the arity checked before it runs.</summary>
    internal sealed record Subcommand(string Name, int Arity, CommandFlags Flags, string Syntax, string Summary, string Since, int FirstKey = 0, int LastKey = 0, int Step = 0)
    {
        public bool ArityMatches(int count) => Arity >= 0 ? count == Arity : count >= -Arity;
    }

    /// <summary>The subcommand tables of the container commands defined here, by container name.</summary>
    internal static IReadOnlyList<Subcommand>? SubcommandsOf(string container) => container.ToUpperInvariant() switch
    {
        "CLIENT" => ClientSubcommands,
        "CONFIG" => ConfigSubcommands,
        "COMMAND" => CommandSubcommands,
        "MEMORY" => MemorySubcommands,
        "OBJECT" => ObjectSubcommands,
        "FUNCTION" => FunctionSubcommands,
        "PUBSUB" => PubSubSubcommands,
        "SLOWLOG" => SlowLogSubcommands,
        "LATENCY" => LatencySubcommands,
        _ => null,
    };

    /// <summary>Finds request[1] in <paramref name="table"/> and checks its arity, replying Redis's errors when that fails.</summary>
    private static bool TryResolve(ClientSession session, in Request request, string container, Subcommand[] table, out Subcommand sub)
    {
        var name = request[1];
        foreach (var candidate in table)
        {
            if (!Ascii.EqualsIgnoreCase(name, candidate.Name)) continue;
            sub = candidate;
            if (candidate.ArityMatches(request.Count)) return true;
            session.Writer.WriteError($"ERR wrong number of arguments for '{container.ToLowerInvariant()}|{candidate.Name.ToLowerInvariant()}' command");
            return false;
        }
        sub = null!;
        session.Writer.WriteError($"ERR unknown subcommand '{ClientSession.Printable(name, 128)}'. Try {container} HELP.");
        return false;
    }

    /// <summary>Redis's addReplyHelp: simple strings, a title line, each subcommand's syntax and indented summary, then HELP.</summary>
    private static void WriteHelp(ClientSession session, string container, Subcommand[] table)
    {
        var writer = session.Writer;
        var lines = new List<string> { $"{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" };
        foreach (var sub in table)
        {
            if (sub.Name == "HELP") continue;
            lines.Add(sub.Syntax);
            lines.Add("    " + sub.Summary);
        }
        lines.Add("HELP");
        lines.Add("    Print this help.");
        writer.WriteArrayHeader(lines.Count);
        foreach (var line in lines) writer.WriteSimpleString(line);
    }

    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
