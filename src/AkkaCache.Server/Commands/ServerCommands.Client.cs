using System.Text;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>CLIENT: the connection's identity (ID, SETNAME, SETINFO), the node's connections (LIST, INFO, KILL) and per-connection switches.</summary>
internal static partial class ServerCommands
{
    private const CommandFlags ClientFlags = CommandFlags.Loading | CommandFlags.Stale;

    private static readonly Subcommand[] ClientSubcommands =
    [
        new("ID", 2, ClientFlags, "ID", "Return the ID of the current connection.", "5.0.0"),
        new("SETNAME", 3, ClientFlags, "SETNAME <name>", "Assign the name <name> to the current connection.", "2.6.9"),
        new("GETNAME", 2, ClientFlags, "GETNAME", "Return the name of the current connection.", "2.6.9"),
        new("SETINFO", 4, ClientFlags, "SETINFO <option> <value>", "Set client meta attr. Options are: LIB-NAME: the client lib name. LIB-VER: the client lib version.", "7.2.0"),
        new("LIST", -2, ClientFlags | CommandFlags.Admin, "LIST [options ...]", "Return information about client connections. Options: TYPE (NORMAL|MASTER|REPLICA|PUBSUB), ID <client-id> [<client-id> ...].", "2.4.0"),
        new("INFO", 2, ClientFlags, "INFO", "Return information about the current client connection.", "6.2.0"),
        new("KILL", -3, ClientFlags | CommandFlags.Admin, "KILL <ip:port> | <option> <value> [<option> <value> [...]]", "Kill connection made from <ip:port>, or connections matching the filters ID, TYPE, USER, ADDR, LADDR, SKIPME (yes|no), MAXAGE.", "2.4.0"),
        new("NO-EVICT", 3, ClientFlags | CommandFlags.Admin, "NO-EVICT (ON|OFF)", "Protect current client connection from eviction.", "7.0.0"),
        new("NO-TOUCH", 3, ClientFlags, "NO-TOUCH (ON|OFF)", "Will not touch LRU/LFU stats when this mode is on.", "7.2.0"),
        new("REPLY", 3, ClientFlags, "REPLY (ON|OFF|SKIP)", "Control the replies sent to the current connection (only ON is supported).", "3.2.0"),
        new("GETREDIR", 2, ClientFlags, "GETREDIR", "Return the client ID we are redirecting to when tracking is enabled.", "6.0.0"),
        new("UNPAUSE", 2, ClientFlags | CommandFlags.Admin, "UNPAUSE", "Stop the current client pause, resuming traffic.", "6.2.0"),
        new("PAUSE", -3, ClientFlags | CommandFlags.Admin, "PAUSE <timeout> [WRITE|ALL]", "Suspend clients (not supported).", "3.0.0"),
        new("TRACKING", -3, ClientFlags, "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]] [OPTIN] [OPTOUT] [NOLOOP]", "Enable or disable server assisted client side caching support.", "6.0.0"),
        new("TRACKINGINFO", 2, ClientFlags, "TRACKINGINFO", "Return information about server assisted client side caching for the current connection.", "6.2.0"),
        new("CACHING", 3, ClientFlags, "CACHING (YES|NO)", "Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.", "6.0.0"),
        new("HELP", 2, ClientFlags, "HELP", "Returns helpful text about the different subcommands.", "5.0.0"),
    ];

    private static void Client(ClientSession session, in Request request)
    {
        if (!TryResolve(session, request, "CLIENT", ClientSubcommands, out var sub)) return;
        var writer = session.Writer;
        var info = session.Info;
        switch (sub.Name)
        {
            case "ID":
                writer.WriteInteger(info.Id);
                break;
            case "SETNAME":
                if (TrySetName(session, request[2])) writer.WriteOk();
                break;
            case "GETNAME":
                if (info.Name is null) writer.WriteNull();
                else writer.WriteBulkString(info.Name);
                break;
            case "SETINFO":
                SetInfo(session, request);
                break;
            case "LIST":
                ClientList(session, request);
                break;
            case "INFO":
                writer.WriteVerbatimString("txt", info.Describe(session.Node.NowMs) + "\n");
                break;
            case "KILL":
                ClientKill(session, request);
                break;
            case "NO-EVICT":
            case "NO-TOUCH":
                // accepted for compatibility: the node never evicts clients, and NO-TOUCH's only effect would be on
                // eviction order of keys this connection reads
                if (IsOnOff(request[2])) writer.WriteOk();
                else writer.WriteError("ERR syntax error");
                break;
            case "REPLY":
                if (Ascii.EqualsIgnoreCase(request[2], "ON"u8)) writer.WriteOk();
                else if (Ascii.EqualsIgnoreCase(request[2], "OFF"u8) || Ascii.EqualsIgnoreCase(request[2], "SKIP"u8))
                    writer.WriteError("ERR CLIENT REPLY OFF|SKIP is not supported by AkkaCache");
                else writer.WriteError("ERR syntax error");
                break;
            case "GETREDIR":
                writer.WriteInteger(session.TrackingRedirect);
                break;
            case "UNPAUSE":
                writer.WriteOk(); // nothing is ever paused
                break;
            case "TRACKING":
                session.ClientTracking(request);
                break;
            case "TRACKINGINFO":
                session.ClientTrackingInfo();
                break;
            case "CACHING":
                session.ClientCaching(request);
                break;
            case "PAUSE":
                writer.WriteError("ERR CLIENT PAUSE is not supported by AkkaCache");
                break;
            default:
                WriteHelp(session, "CLIENT", ClientSubcommands);
                break;
        }
    }

    private static bool IsOnOff(ReadOnlySpan<byte> value) => Ascii.EqualsIgnoreCase(value, "ON"u8) || Ascii.EqualsIgnoreCase(value, "OFF"u8);

    /// <summary>Redis's client name rule: printable ASCII without spaces ('!'..'~'); empty clears the name.</summary>
    private static bool IsValidClientAttribute(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
            if (b < (byte)'!' || b > (byte)'~') return false;
        return true;
    }

    private static bool TrySetName(ClientSession session, ReadOnlySpan<byte> name)
    {
        if (!IsValidClientAttribute(name))
        {
            session.Writer.WriteError("ERR Client names cannot contain spaces, newlines or special characters.");
            return false;
        }
        session.Info.Name = name.Length == 0 ? null : Encoding.ASCII.GetString(name);
        return true;
    }

    private static void SetInfo(ClientSession session, in Request request)
    {
        var attribute = request[2];
        bool libName = Ascii.EqualsIgnoreCase(attribute, "LIB-NAME"u8);
        if (!libName && !Ascii.EqualsIgnoreCase(attribute, "LIB-VER"u8))
        {
            session.Writer.WriteError($"ERR Unrecognized option '{ClientSession.Printable(attribute, 128)}'");
            return;
        }
        var value = request[3];
        if (!IsValidClientAttribute(value))
        {
            session.Writer.WriteError($"ERR {(libName ? "lib-name" : "lib-ver")} cannot contain spaces, newlines or special characters.");
            return;
        }
        string? text = value.Length == 0 ? null : Encoding.ASCII.GetString(value);
        if (libName) session.Info.LibName = text;
        else session.Info.LibVersion = text;
        session.Writer.WriteOk();
    }

    /// <summary>Redis's client types (<see cref="ClientInfo.Type"/>): connections here are "normal" or, while subscribed, "pubsub".</summary>
    private static bool TryParseClientType(ReadOnlySpan<byte> name, out string type)
    {
        type = Ascii.EqualsIgnoreCase(name, "normal"u8) ? "normal"
            : Ascii.EqualsIgnoreCase(name, "pubsub"u8) ? "pubsub"
            : Ascii.EqualsIgnoreCase(name, "slave"u8) || Ascii.EqualsIgnoreCase(name, "replica"u8) ? "replica"
            : Ascii.EqualsIgnoreCase(name, "master"u8) ? "master"
            : "";
        return type.Length > 0;
    }

    /// <summary>CLIENT LIST [TYPE type] | [ID id ...]: one line per connection, each ending in "\n".</summary>
    private static void ClientList(ClientSession session, in Request request)
    {
        var writer = session.Writer;
        IEnumerable<ClientInfo> clients = session.Node.Clients.All;
        if (request.Count == 4 && Ascii.EqualsIgnoreCase(request[2], "TYPE"u8))
        {
            if (!TryParseClientType(request[3], out string type))
            {
                writer.WriteError($"ERR Unknown client type '{ClientSession.Printable(request[3], 128)}'");
                return;
            }
            clients = clients.Where(c => c.Type == type);
        }
        else if (request.Count > 3 && Ascii.EqualsIgnoreCase(request[2], "ID"u8))
        {
            var ids = new HashSet<long>();
            for (int i = 3; i < request.Count; i++)
            {
                if (!RespNumbers.TryParseInt64(request[i], out long id))
                {
                    writer.WriteError("ERR Invalid client ID");
                    return;
                }
                ids.Add(id);
            }
            clients = clients.Where(c => ids.Contains(c.Id));
        }
        else if (request.Count != 2)
        {
            writer.WriteError("ERR syntax error");
            return;
        }

        long now = session.Node.NowMs;
        var text = new StringBuilder();
        foreach (var client in clients) text.Append(client.Describe(now)).Append('\n');
        writer.WriteVerbatimString("txt", text.ToString());
    }

    /// <summary>
    /// CLIENT KILL ip:port (old form: +OK or an error) or CLIENT KILL filter value ... (the number killed; the caller
    /// itself is spared unless SKIPME no). The caller's own connection closes after this reply; others are aborted now.
    /// </summary>
    private static void ClientKill(ClientSession session, in Request request)
    {
        var writer = session.Writer;
        long id = 0;
        string? address = null, localAddress = null;
        bool skipMe = true;
        string? type = null;
        long maxAge = 0;
        bool oldForm = request.Count == 3;
        if (oldForm)
        {
            address = Text(request[2]);
            skipMe = false;
        }
        else
        {
            if (request.Count % 2 != 0)
            {
                writer.WriteError("ERR syntax error");
                return;
            }
            for (int i = 2; i < request.Count; i += 2)
            {
                var option = request[i];
                var value = request[i + 1];
                if (Ascii.EqualsIgnoreCase(option, "ID"u8))
                {
                    if (!RespNumbers.TryParseInt64(value, out id) || id < 1)
                    {
                        writer.WriteError("ERR client-id should be greater than 0");
                        return;
                    }
                }
                else if (Ascii.EqualsIgnoreCase(option, "TYPE"u8))
                {
                    if (!TryParseClientType(value, out string named))
                    {
                        writer.WriteError($"ERR Unknown client type '{ClientSession.Printable(value, 128)}'");
                        return;
                    }
                    type = named;
                }
                else if (Ascii.EqualsIgnoreCase(option, "USER"u8))
                {
                    if (!value.SequenceEqual("default"u8))
                    {
                        writer.WriteError($"ERR No such user '{ClientSession.Printable(value, 128)}'");
                        return;
                    }
                }
                else if (Ascii.EqualsIgnoreCase(option, "ADDR"u8)) address = Text(value);
                else if (Ascii.EqualsIgnoreCase(option, "LADDR"u8)) localAddress = Text(value);
                else if (Ascii.EqualsIgnoreCase(option, "SKIPME"u8))
                {
                    if (Ascii.EqualsIgnoreCase(value, "YES"u8)) skipMe = true;
                    else if (Ascii.EqualsIgnoreCase(value, "NO"u8)) skipMe = false;
                    else
                    {
                        writer.WriteError("ERR syntax error");
                        return;
                    }
                }
                else if (Ascii.EqualsIgnoreCase(option, "MAXAGE"u8))
                {
                    if (!RespNumbers.TryParseInt64(value, out maxAge))
                    {
                        writer.WriteError("ERR value is not an integer or out of range");
                        return;
                    }
                }
                else
                {
                    writer.WriteError("ERR syntax error");
                    return;
                }
            }
        }

        long now = session.Node.NowMs;
        int killed = 0;
        bool killSelf = false;
        foreach (var client in session.Node.Clients.All.ToList())
        {
            if (id != 0 && client.Id != id) continue;
            if (type is not null && client.Type != type) continue;
            if (address is not null && client.Address != address) continue;
            if (localAddress is not null && client.LocalAddress != localAddress) continue;
            if (maxAge > 0 && (now - client.CreatedMs) / 1000 < maxAge) continue;
            bool self = client.Id == session.Info.Id;
            if (self && skipMe) continue;
            if (self)
            {
                killSelf = true;
            }
            else
            {
                client.Kill();
                // gone at once, as in Redis: the aborted session deregisters itself only when its loop ends
                session.Node.Clients.Remove(client);
            }
            killed++;
        }

        if (oldForm)
        {
            if (killed == 0) writer.WriteError("ERR No such client");
            else writer.WriteOk();
        }
        else
        {
            writer.WriteInteger(killed);
        }
        if (killSelf) session.CloseRequested = true;
    }
}
