using AkkaCache.Core.Storage;
using AkkaCache.Server.Network;
using static AkkaCache.Server.Commands.CommandSupport;

namespace AkkaCache.Server.Commands;

/// <summary>
/// Stampede protection (memcached leases at Facebook): AC.GETL hands the first reader that misses a key a fill
/// token and tells the others to wait; AC.SETL stores only under a token still valid. Any write to the key in
/// between drops the lease (see <see cref="LeaseTable"/>), so a slow filler never puts back data a delete removed.
/// </summary>
internal static class LeaseCommands
{
    public const string InvalidLeaseTime = "ERR invalid lease time in 'ac.getl' command";

    public static void Register(List<CommandDefinition> list)
    {
        // Write although a hit only reads: a miss creates a lease, which lives on the primary alone (replicas refuse
        // it, clients send it to the primary). NotReplicated: there is no data change to ship, hits included.
        list.Add("AC.GETL", -3, CommandFlags.Write | CommandFlags.Fast | CommandFlags.NotReplicated, 1, 1, 1, GetL, "akkacache",
            "Returns [HIT, value] (with META: [HIT, value, pttl, version]); on a miss [LEASE, token] to the first caller and [WAIT, nil] (or [STALE, old value] with lease-stale) to the others while the lease lives.");
        list.Add("AC.SETL", -4, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, SetL, "akkacache",
            "Sets a key only if the lease token from AC.GETL is still valid (no write to the key since); 1 written, 0 refused.");
        list.Add("AC.UNLEASE", 3, CommandFlags.Write | CommandFlags.Fast | CommandFlags.NotReplicated, 1, 1, 1, Unlease, "akkacache",
            "Gives a lease back unused (the load failed), so the next AC.GETL gets a lease at once; 1 released, 0 not held.");
    }

    private static void GetL(ClientSession session, in Request request)
    {
        if (!TryInteger(session, request[2], out long leaseMs)) return;
        if (leaseMs <= 0)
        {
            session.Writer.WriteError(InvalidLeaseTime);
            return;
        }
        // META adds what a client needs for probabilistic early refresh (XFetch) in the same round trip: the time
        // left to live, and the version, so the refreshed value can be stored with AC.CAS only over the one it replaces
        bool meta = false;
        if (request.Count == 4 && Is(request[3], "META"u8)) meta = true;
        else if (request.Count != 3)
        {
            session.Writer.WriteError(SyntaxError);
            return;
        }
        var key = request[1];
        int id = Read(session, key, out var table);
        var writer = session.Writer;
        if (id >= 0)
        {
            writer.WriteArrayHeader(meta ? 4 : 2);
            writer.WriteBulkString("HIT"u8);
            writer.WriteBulkString(table.Value(id));
            if (meta)
            {
                long expireAt = table.ExpireAt(id);
                writer.WriteInteger(expireAt == 0 ? -1 : expireAt - session.NowMs);
                writer.WriteInteger(table.Version(id));
            }
            return;
        }
        writer.WriteArrayHeader(2);
        long token = table.Leases.Acquire(key, leaseMs, session.NowMs, out bool created);
        if (created)
        {
            writer.WriteBulkString("LEASE"u8);
            writer.WriteInteger(token);
        }
        else if (table.Leases.TryGetStale(key, session.NowMs, out var stale))
        {
            writer.WriteBulkString("STALE"u8);
            writer.WriteBulkString(stale);
        }
        else
        {
            writer.WriteBulkString("WAIT"u8);
            writer.WriteNull();
        }
    }

    private static void Unlease(ClientSession session, in Request request)
    {
        if (!TryToken(session, request[2], "ac.unlease", out long token)) return;
        var key = request[1];
        var leases = session.Table(key).Leases;
        bool held = leases.IsValid(key, token, session.NowMs);
        if (held) leases.Invalidate(key);
        session.Writer.WriteInteger(held ? 1 : 0);
    }

    private static bool TryToken(ClientSession session, ReadOnlySpan<byte> argument, string command, out long token)
    {
        if (!TryInteger(session, argument, out token)) return false;
        if (token > 0) return true;
        session.Writer.WriteError($"ERR invalid lease token in '{command}' command");
        return false;
    }

    private static void SetL(ClientSession session, in Request request)
    {
        if (!TryToken(session, request[2], "ac.setl", out long token)) return;
        long expireAt = 0;
        if (request.Count == 6 && (Is(request[4], "EX"u8) || Is(request[4], "PX"u8)))
        {
            long unit = Is(request[4], "EX"u8) ? 1000 : 1;
            if (!TryExpireAt(session, request[5], unit, absolute: false, "ac.setl", allowNonPositive: false, out expireAt)) return;
        }
        else if (request.Count != 4)
        {
            session.Writer.WriteError(SyntaxError);
            return;
        }
        var key = request[1];
        var table = session.Table(key);
        long now = session.NowMs;
        if (!table.Leases.IsValid(key, token, now))
        {
            session.Writer.WriteInteger(0);
            return;
        }
        // the write drops the lease: a token fills once
        var status = table.Set(key, EntryTable.Hash(key), request[3], expireAt, now, out _);
        if (status == WriteStatus.Ok) session.Writer.WriteInteger(1);
        else session.Writer.WriteError(OutOfMemory);
    }
}
