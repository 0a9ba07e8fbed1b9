using System.Buffers;
using System.Globalization;
using AkkaCache.Core.Keyspace;
using AkkaCache.Core.Storage;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;
using AkkaCache.Server.PubSub;
using static AkkaCache.Server.Commands.CommandSupport;

namespace AkkaCache.Server.Commands;

/// <summary>Generic key commands: deletion, existence, expiry, renaming and keyspace iteration.</summary>
internal static class KeyCommands
{
    public static void Register(List<CommandDefinition> list)
    {
        list.Add("DEL", -2, CommandFlags.Write, 1, -1, 1, Del, "generic", "Deletes one or more keys.");
        list.Add("UNLINK", -2, CommandFlags.Write | CommandFlags.Fast, 1, -1, 1, Del, "generic", "Asynchronously deletes one or more keys.");
        list.Add("EXISTS", -2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.HotCopyRead, 1, -1, 1, Exists, "generic", "Determines whether one or more keys exist.");
        list.Add("TOUCH", -2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, -1, 1, Touch, "generic", "Returns the number of existing keys out of those specified after updating the time they were last accessed.");
        list.Add("TYPE", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, Type, "generic", "Determines the type of value stored at a key.");
        list.Add("EXPIRE", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, (s, in r) => Expire(s, r, 1000, false, "expire"), "generic", "Sets the expiration time of a key in seconds.");
        list.Add("PEXPIRE", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, (s, in r) => Expire(s, r, 1, false, "pexpire"), "generic", "Sets the expiration time of a key in milliseconds.");
        list.Add("EXPIREAT", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, (s, in r) => Expire(s, r, 1000, true, "expireat"), "generic", "Sets the expiration time of a key to a Unix timestamp.");
        list.Add("PEXPIREAT", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, (s, in r) => Expire(s, r, 1, true, "pexpireat"), "generic", "Sets the expiration time of a key to a Unix milliseconds timestamp.");
        list.Add("TTL", 2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.HotCopyRead, 1, 1, 1, (s, in r) => Ttl(s, r, 1000, false), "generic", "Returns the expiration time in seconds of a key.");
        list.Add("PTTL", 2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.HotCopyRead, 1, 1, 1, (s, in r) => Ttl(s, r, 1, false), "generic", "Returns the expiration time in milliseconds of a key.");
        list.Add("EXPIRETIME", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, (s, in r) => Ttl(s, r, 1000, true), "generic", "Returns the expiration time of a key as a Unix timestamp.");
        list.Add("PEXPIRETIME", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, (s, in r) => Ttl(s, r, 1, true), "generic", "Returns the expiration time of a key as a Unix milliseconds timestamp.");
        list.Add("PERSIST", 2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, Persist, "generic", "Removes the expiration time of a key.");
        list.Add("RENAME", 3, CommandFlags.Write, 1, 2, 1, (s, in r) => Rename(s, r, onlyIfAbsent: false), "generic", "Renames a key and overwrites the destination.");
        list.Add("RENAMENX", 3, CommandFlags.Write | CommandFlags.Fast, 1, 2, 1, (s, in r) => Rename(s, r, onlyIfAbsent: true), "generic", "Renames a key only when the target key name doesn't exist.");
        list.Add("SCAN", -2, CommandFlags.ReadOnly | CommandFlags.AllShards, 0, 0, 0, Scan, "generic", "Iterates over the key names in the database.");
        list.Add("KEYS", 2, CommandFlags.ReadOnly | CommandFlags.AllShards, 0, 0, 0, Keys, "generic", "Returns all key names that match a pattern.");
        list.Add("RANDOMKEY", 1, CommandFlags.ReadOnly | CommandFlags.AllShards, 0, 0, 0, RandomKey, "generic", "Returns a random key name from the database.");
    }

    private static void Del(ClientSession session, in Request request)
    {
        long deleted = 0;
        for (int i = 1; i < request.Count; i++)
        {
            var key = request[i];
            if (!session.Table(key).Delete(key, EntryTable.Hash(key), session.NowMs)) continue;
            deleted++;
            session.Node.Keyspace.Notify(KeyspaceEvents.Generic, "del"u8, key);
        }
        session.Writer.WriteInteger(deleted);
    }

    private static void Exists(ClientSession session, in Request request)
    {
        long found = 0;
        for (int i = 1; i < request.Count; i++)
        {
            var key = request[i];
            if (session.Table(key).Find(key, EntryTable.Hash(key), session.NowMs) >= 0) found++;
        }
        session.Writer.WriteInteger(found);
    }

    private static void Touch(ClientSession session, in Request request)
    {
        long found = 0;
        for (int i = 1; i < request.Count; i++)
        {
            var key = request[i];
            var table = session.Table(key);
            if (table.Find(key, EntryTable.Hash(key), session.NowMs) is var id && id >= 0)
            {
                table.Access(id);
                found++;
            }
        }
        session.Writer.WriteInteger(found);
    }

    private static void Type(ClientSession session, in Request request)
    {
        var key = request[1];
        bool exists = session.Table(key).Find(key, EntryTable.Hash(key), session.NowMs) >= 0;
        session.Writer.WriteSimpleString(exists ? "string" : "none");
    }

    private static void Expire(ClientSession session, in Request request, long unitMs, bool absolute, string command)
    {
        bool nx = false, xx = false, gt = false, lt = false;
        for (int i = 3; i < request.Count; i++)
        {
            var option = request[i];
            if (Is(option, "NX"u8)) nx = true;
            else if (Is(option, "XX"u8)) xx = true;
            else if (Is(option, "GT"u8)) gt = true;
            else if (Is(option, "LT"u8)) lt = true;
            else
            {
                session.Writer.WriteError($"ERR Unsupported option {Printable(option)}");
                return;
            }
        }
        if (nx && (xx || gt || lt))
        {
            session.Writer.WriteError("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if (gt && lt)
        {
            session.Writer.WriteError("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (!TryExpireAt(session, request[2], unitMs, absolute, command, allowNonPositive: true, out long expireAt)) return;

        var key = request[1];
        var table = session.Table(key);
        int id = table.Find(key, EntryTable.Hash(key), session.NowMs);
        if (id < 0)
        {
            session.Writer.WriteInteger(0);
            return;
        }
        long current = table.ExpireAt(id); // 0: persistent, an infinite TTL for GT/LT
        bool allowed = !(nx && current != 0) && !(xx && current == 0)
            && !(gt && (current == 0 || expireAt <= current))
            && !(lt && current != 0 && expireAt >= current);
        if (!allowed)
        {
            session.Writer.WriteInteger(0);
            return;
        }
        if (expireAt <= session.NowMs)
        {
            table.Remove(id, RemovalCause.Deleted);
            session.Node.Keyspace.Notify(KeyspaceEvents.Generic, "del"u8, request[1]);
        }
        else
        {
            table.SetExpireAt(id, expireAt);
            session.Node.Keyspace.Notify(KeyspaceEvents.Generic, "expire"u8, request[1]);
        }
        session.Writer.WriteInteger(1);
    }

    private static string Printable(ReadOnlySpan<byte> option) => ClientSession.Printable(option, 128);

    private static void Ttl(ClientSession session, in Request request, long unitMs, bool absolute)
    {
        var key = request[1];
        var table = session.Table(key);
        int id = table.Find(key, EntryTable.Hash(key), session.NowMs);
        if (id < 0)
        {
            session.Writer.WriteInteger(-2);
            return;
        }
        long expireAt = table.ExpireAt(id);
        if (expireAt == 0)
        {
            session.Writer.WriteInteger(-1);
            return;
        }
        if (absolute)
        {
            session.Writer.WriteInteger(expireAt / unitMs);
            return;
        }
        long remaining = expireAt - session.NowMs;
        // Redis rounds seconds to nearest
        session.Writer.WriteInteger(unitMs == 1 ? remaining : (remaining + 500) / 1000);
    }

    private static void Persist(ClientSession session, in Request request)
    {
        var key = request[1];
        var table = session.Table(key);
        int id = table.Find(key, EntryTable.Hash(key), session.NowMs);
        if (id < 0 || table.ExpireAt(id) == 0)
        {
            session.Writer.WriteInteger(0);
            return;
        }
        table.SetExpireAt(id, 0);
        session.Writer.WriteInteger(1);
    }

    private static void Rename(ClientSession session, in Request request, bool onlyIfAbsent)
    {
        var source = request[1];
        var target = request[2];
        var sourceTable = session.Table(source);
        int id = sourceTable.Find(source, EntryTable.Hash(source), session.NowMs);
        if (id < 0)
        {
            session.Writer.WriteError(NoSuchKey);
            return;
        }
        var targetTable = session.Table(target);
        uint targetHash = EntryTable.Hash(target);
        if (source.SequenceEqual(target))
        {
            if (onlyIfAbsent) session.Writer.WriteInteger(0);
            else session.Writer.WriteOk();
            return;
        }
        if (onlyIfAbsent && targetTable.Find(target, targetHash, session.NowMs) >= 0)
        {
            session.Writer.WriteInteger(0);
            return;
        }
        // the value lives in an arena the write may compact: copy it out first
        int length = sourceTable.ValueLength(id);
        long expireAt = sourceTable.ExpireAt(id);
        byte[] value = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            sourceTable.Value(id).CopyTo(value);
            var status = targetTable.Set(target, targetHash, value.AsSpan(0, length), expireAt, session.NowMs, out _);
            if (status != WriteStatus.Ok)
            {
                session.Writer.WriteError(OutOfMemory);
                return;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(value);
        }
        sourceTable.Delete(source, EntryTable.Hash(source), session.NowMs);
        if (onlyIfAbsent) session.Writer.WriteInteger(1);
        else session.Writer.WriteOk();
    }

    /// <summary>
    /// The cursor is the position to resume from: shard index in the high 32 bits, entry id in the low 32. Entry ids do
    /// not move while an entry exists, so every key present for the whole iteration is returned (possibly twice, as Redis allows).
    /// </summary>
    private static void Scan(ClientSession session, in Request request)
    {
        if (!ulong.TryParse(request[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong cursor))
        {
            session.Writer.WriteError("ERR invalid cursor");
            return;
        }
        long count = 10;
        ReadOnlySpan<byte> pattern = default;
        bool hasPattern = false, typeFilterNone = false;
        for (int i = 2; i < request.Count; i++)
        {
            var option = request[i];
            if (i + 1 >= request.Count)
            {
                session.Writer.WriteError(SyntaxError);
                return;
            }
            if (Is(option, "COUNT"u8))
            {
                if (!TryInteger(session, request[++i], out count)) return;
                if (count < 1)
                {
                    session.Writer.WriteError(SyntaxError);
                    return;
                }
            }
            else if (Is(option, "MATCH"u8))
            {
                pattern = request[++i];
                hasPattern = !(pattern.Length == 1 && pattern[0] == (byte)'*');
            }
            else if (Is(option, "TYPE"u8))
            {
                typeFilterNone = !Is(request[++i], "STRING"u8);
            }
            else
            {
                session.Writer.WriteError(SyntaxError);
                return;
            }
        }

        var shards = session.Node.Engine.Shards;
        int shard = (int)(cursor >> 32);
        int next = (int)(cursor & 0xFFFF_FFFF);
        var found = new List<(int Shard, int Id)>();
        long visited = 0;
        long now = session.NowMs;
        while (shard < shards.Length && visited < count)
        {
            if (!session.Leads(shard))
            {
                shard++;
                next = 0;
                continue;
            }
            var table = shards[shard].Table;
            int id = table.NextLiveId(next);
            if (id < 0)
            {
                shard++;
                next = 0;
                continue;
            }
            next = id + 1;
            visited++;
            if (table.IsExpired(id, now)) continue;
            if (typeFilterNone || hasPattern && !Glob.IsMatch(pattern, table.Key(id))) continue;
            found.Add((shard, id));
        }
        ulong nextCursor = shard >= shards.Length ? 0 : ((ulong)shard << 32) | (uint)next;
        session.Writer.WriteArrayHeader(2);
        session.Writer.WriteBulkString(nextCursor.ToString(CultureInfo.InvariantCulture));
        session.Writer.WriteArrayHeader(found.Count);
        foreach (var (s, id) in found) session.Writer.WriteBulkString(shards[s].Table.Key(id));
    }

    private static void Keys(ClientSession session, in Request request)
    {
        var pattern = request[1];
        bool all = pattern.Length == 1 && pattern[0] == (byte)'*';
        var shards = session.Node.Engine.Shards;
        var found = new List<(int Shard, int Id)>();
        long now = session.NowMs;
        for (int s = 0; s < shards.Length; s++)
        {
            if (!session.Leads(s)) continue;
            var table = shards[s].Table;
            for (int id = table.NextLiveId(0); id >= 0; id = table.NextLiveId(id + 1))
            {
                if (table.IsExpired(id, now)) continue;
                if (all || Glob.IsMatch(pattern, table.Key(id))) found.Add((s, id));
            }
        }
        session.Writer.WriteArrayHeader(found.Count);
        foreach (var (s, id) in found) session.Writer.WriteBulkString(shards[s].Table.Key(id));
    }

    private static void RandomKey(ClientSession session, in Request request)
    {
        var shards = session.Node.Engine.Shards;
        long now = session.NowMs;
        // try a few times: a picked key may turn out expired
        for (int attempt = 0; attempt < 16; attempt++)
        {
            long total = 0;
            foreach (var shard in shards)
                if (session.Leads(shard.Index)) total += shard.Table.Count;
            if (total == 0) break;
            long pick = Random.Shared.NextInt64(total);
            foreach (var shard in shards)
            {
                if (!session.Leads(shard.Index)) continue;
                var table = shard.Table;
                if (pick >= table.Count)
                {
                    pick -= table.Count;
                    continue;
                }
                int id = table.RandomLiveId(Random.Shared);
                if (id < 0) break;
                if (table.IsExpired(id, now))
                {
                    table.Remove(id, RemovalCause.Expired);
                    break;
                }
                session.Writer.WriteBulkString(table.Key(id));
                return;
            }
        }
        session.Writer.WriteNull();
    }
}
