using System.Buffers;
using AkkaCache.Core.Storage;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;
using AkkaCache.Server.PubSub;
using static AkkaCache.Server.Commands.CommandSupport;

namespace AkkaCache.Server.Commands;

/// <summary>String commands, plus memcached-style AC.GETS / AC.CAS. All run with the key's shard entered.</summary>
internal static class StringCommands
{
    private const CommandFlags Read = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const CommandFlags Write = CommandFlags.Write | CommandFlags.DenyOom;

    public static void Register(List<CommandDefinition> list)
    {
        list.Add("GET", 2, Read | CommandFlags.HotCopyRead, 1, 1, 1, Get, "string", "Returns the string value of a key.");
        list.Add("SET", -3, Write, 1, 1, 1, Set, "string", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.");
        list.Add("SETNX", 3, Write | CommandFlags.Fast, 1, 1, 1, SetNx, "string", "Set the string value of a key only when the key doesn't exist.");
        list.Add("SETEX", 4, Write, 1, 1, 1, SetEx, "string", "Sets the string value and expiration time of a key.");
        list.Add("PSETEX", 4, Write, 1, 1, 1, PSetEx, "string", "Sets both string value and expiration time in milliseconds of a key.");
        list.Add("GETSET", 3, Write | CommandFlags.Fast, 1, 1, 1, GetSet, "string", "Returns the previous string value of a key after setting it to a new value.");
        list.Add("GETDEL", 2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, GetDel, "string", "Returns the string value of a key after deleting the key.");
        list.Add("GETEX", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, GetEx, "string", "Returns the string value of a key after setting its expiration time.");
        list.Add("MGET", -2, Read | CommandFlags.HotCopyRead, 1, -1, 1, MGet, "string", "Atomically returns the string values of one or more keys.");
        list.Add("MSET", -3, Write, 1, -1, 2, MSet, "string", "Atomically creates or modifies the string values of one or more keys.");
        list.Add("MSETNX", -3, Write, 1, -1, 2, MSetNx, "string", "Atomically modifies the string values of one or more keys only when all keys don't exist.");
        list.Add("INCR", 2, Write | CommandFlags.Fast, 1, 1, 1, Incr, "string", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.");
        list.Add("DECR", 2, Write | CommandFlags.Fast, 1, 1, 1, Decr, "string", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.");
        list.Add("INCRBY", 3, Write | CommandFlags.Fast, 1, 1, 1, IncrBy, "string", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.");
        list.Add("DECRBY", 3, Write | CommandFlags.Fast, 1, 1, 1, DecrBy, "string", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.");
        list.Add("INCRBYFLOAT", 3, Write | CommandFlags.Fast, 1, 1, 1, IncrByFloat, "string", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.");
        list.Add("APPEND", 3, Write | CommandFlags.Fast, 1, 1, 1, Append, "string", "Appends a string to the value of a key. Creates the key if it doesn't exist.");
        list.Add("STRLEN", 2, Read, 1, 1, 1, StrLen, "string", "Returns the length of a string value.");
        list.Add("GETRANGE", 4, CommandFlags.ReadOnly, 1, 1, 1, GetRange, "string", "Returns a substring of the string stored at a key.");
        list.Add("SUBSTR", 4, CommandFlags.ReadOnly, 1, 1, 1, GetRange, "string", "Returns a substring from a string value.");
        list.Add("SETRANGE", 4, Write, 1, 1, 1, SetRange, "string", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.");
        list.Add("AC.GETS", 2, Read, 1, 1, 1, Gets, "akkacache", "Returns [value, version] of a key, for AC.CAS (memcached gets).");
        list.Add("AC.CAS", -4, Write, 1, 1, 1, Cas, "akkacache", "Sets a key only if its version is still the given one (0: only if absent); 1 written, 0 conflict.");
    }

    private static void Get(ClientSession session, in Request request)
    {
        var key = request[1];
        int id = CommandSupport.Read(session, key, out var table);
        WriteValueOrNull(session, table, id);
    }

    [Flags]
    private enum SetOptions { None = 0, Nx = 1, Xx = 2, Get = 4, KeepTtl = 8, Expire = 16 }

    private static void Set(ClientSession session, in Request request)
    {
        var options = SetOptions.None;
        long expireAt = 0;
        for (int i = 3; i < request.Count; i++)
        {
            var option = request[i];
            bool hasNext = i + 1 < request.Count;
            if (Is(option, "NX"u8) && (options & SetOptions.Xx) == 0) options |= SetOptions.Nx;
            else if (Is(option, "XX"u8) && (options & SetOptions.Nx) == 0) options |= SetOptions.Xx;
            else if (Is(option, "GET"u8)) options |= SetOptions.Get;
            else if (Is(option, "KEEPTTL"u8) && (options & SetOptions.Expire) == 0) options |= SetOptions.KeepTtl;
            else if ((options & (SetOptions.Expire | SetOptions.KeepTtl)) == 0 && hasNext && ExpireUnit(option, out long unit, out bool absolute))
            {
                if (!TryExpireAt(session, request[++i], unit, absolute, "set", allowNonPositive: false, out expireAt)) return;
                options |= SetOptions.Expire;
            }
            else
            {
                session.Writer.WriteError(SyntaxError);
                return;
            }
        }
        SetCore(session, request[1], request[2], options, expireAt);
    }

    private static bool ExpireUnit(ReadOnlySpan<byte> option, out long unitMs, out bool absolute)
    {
        (unitMs, absolute) = (0, false);
        if (Is(option, "EX"u8)) (unitMs, absolute) = (1000, false);
        else if (Is(option, "PX"u8)) (unitMs, absolute) = (1, false);
        else if (Is(option, "EXAT"u8)) (unitMs, absolute) = (1000, true);
        else if (Is(option, "PXAT"u8)) (unitMs, absolute) = (1, true);
        return unitMs != 0;
    }

    private static void SetCore(ClientSession session, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, SetOptions options, long expireAt)
    {
        var table = session.Table(key);
        uint hash = EntryTable.Hash(key);
        long now = session.NowMs;
        int id = table.Find(key, hash, now);
        bool exists = id >= 0;
        bool replyOld = (options & SetOptions.Get) != 0;

        if ((options & SetOptions.Nx) != 0 && exists || (options & SetOptions.Xx) != 0 && !exists)
        {
            if (replyOld) WriteValueOrNull(session, table, id);
            else session.Writer.WriteNull();
            return;
        }
        if ((options & SetOptions.KeepTtl) != 0 && exists) expireAt = table.ExpireAt(id);

        // the old value lives in the arena the write may reuse: copy it out before writing
        byte[]? old = null;
        int oldLength = 0;
        if (replyOld && exists)
        {
            oldLength = table.ValueLength(id);
            old = ArrayPool<byte>.Shared.Rent(Math.Max(oldLength, 1));
            table.Value(id).CopyTo(old);
        }
        try
        {
            var status = StoreOrExpire(table, key, hash, value, expireAt, now, id);
            if (status != WriteStatus.Ok)
            {
                session.Writer.WriteError(OutOfMemory);
                return;
            }
            // a SET whose expiry is already past removes the key: Redis reports that as a del
            if (expireAt != 0 && expireAt <= now)
            {
                if (exists) session.Node.Keyspace.Notify(KeyspaceEvents.Generic, "del"u8, key);
            }
            else session.Node.Keyspace.Notify(KeyspaceEvents.String, "set"u8, key);
            if (!replyOld) session.Writer.WriteOk();
            else if (old is null) session.Writer.WriteNull();
            else session.Writer.WriteBulkString(old.AsSpan(0, oldLength));
        }
        finally
        {
            if (old is not null) ArrayPool<byte>.Shared.Return(old);
        }
    }

    /// <summary>Writes the value, or deletes the key when the requested expiry is already past (Redis does the same).</summary>
    private static WriteStatus StoreOrExpire(EntryTable table, ReadOnlySpan<byte> key, uint hash, ReadOnlySpan<byte> value, long expireAt, long now, int existingId)
    {
        if (expireAt != 0 && expireAt <= now)
        {
            if (existingId >= 0) table.Remove(existingId, RemovalCause.Deleted);
            return WriteStatus.Ok;
        }
        // the caller has looked the key up already: no second lookup
        return existingId >= 0 ? table.Replace(existingId, value, expireAt) : table.Insert(key, hash, value, expireAt, out _);
    }

    private static void SetNx(ClientSession session, in Request request)
    {
        var key = request[1];
        var table = session.Table(key);
        uint hash = EntryTable.Hash(key);
        if (table.Find(key, hash, session.NowMs) >= 0)
        {
            session.Writer.WriteInteger(0);
            return;
        }
        var status = table.Insert(key, hash, request[2], 0, out _);
        if (status != WriteStatus.Ok)
        {
            session.Writer.WriteError(OutOfMemory);
            return;
        }
        session.Node.Keyspace.Notify(KeyspaceEvents.String, "set"u8, key);
        session.Writer.WriteInteger(1);
    }

    private static void SetEx(ClientSession session, in Request request) => SetWithExpiry(session, request, 1000, "setex");

    private static void PSetEx(ClientSession session, in Request request) => SetWithExpiry(session, request, 1, "psetex");

    private static void SetWithExpiry(ClientSession session, in Request request, long unitMs, string command)
    {
        if (!TryExpireAt(session, request[2], unitMs, absolute: false, command, allowNonPositive: false, out long expireAt)) return;
        SetCore(session, request[1], request[3], SetOptions.Expire, expireAt);
    }

    private static void GetSet(ClientSession session, in Request request) => SetCore(session, request[1], request[2], SetOptions.Get, 0);

    private static void GetDel(ClientSession session, in Request request)
    {
        var key = request[1];
        int id = CommandSupport.Read(session, key, out var table);
        WriteValueOrNull(session, table, id);
        if (id < 0) return;
        table.Remove(id, RemovalCause.Deleted);
        session.Node.Keyspace.Notify(KeyspaceEvents.Generic, "del"u8, key);
    }

    private static void GetEx(ClientSession session, in Request request)
    {
        long expireAt = -1; // -1: leave as is, 0: persist
        for (int i = 2; i < request.Count; i++)
        {
            var option = request[i];
            if (expireAt == -1 && Is(option, "PERSIST"u8))
            {
                expireAt = 0;
            }
            else if (expireAt == -1 && i + 1 < request.Count && ExpireUnit(option, out long unit, out bool absolute))
            {
                if (!TryExpireAt(session, request[++i], unit, absolute, "getex", allowNonPositive: false, out expireAt)) return;
            }
            else
            {
                session.Writer.WriteError(SyntaxError);
                return;
            }
        }
        var key = request[1];
        int id = CommandSupport.Read(session, key, out var table);
        WriteValueOrNull(session, table, id);
        if (id < 0 || expireAt == -1) return;
        if (expireAt != 0 && expireAt <= session.NowMs) table.Remove(id, RemovalCause.Deleted);
        else table.SetExpireAt(id, expireAt);
    }

    private static void MGet(ClientSession session, in Request request)
    {
        session.Writer.WriteArrayHeader(request.Count - 1);
        for (int i = 1; i < request.Count; i++)
        {
            int id = CommandSupport.Read(session, request[i], out var table);
            WriteValueOrNull(session, table, id);
        }
    }

    private static void MSet(ClientSession session, in Request request)
    {
        if (!HasPairs(session, request, "mset")) return;
        if (StorePairs(session, request)) session.Writer.WriteOk();
    }

    private static void MSetNx(ClientSession session, in Request request)
    {
        if (!HasPairs(session, request, "msetnx")) return;
        for (int i = 1; i < request.Count; i += 2)
        {
            var key = request[i];
            if (session.Table(key).Find(key, EntryTable.Hash(key), session.NowMs) >= 0)
            {
                session.Writer.WriteInteger(0);
                return;
            }
        }
        if (StorePairs(session, request)) session.Writer.WriteInteger(1);
    }

    private static bool HasPairs(ClientSession session, in Request request, string command)
    {
        if (request.Count % 2 == 1) return true;
        session.Writer.WriteError($"ERR wrong number of arguments for '{command}' command");
        return false;
    }

    /// <summary>Writes every key/value pair (all their shards are entered, so together they are atomic); false after replying -OOM.</summary>
    private static bool StorePairs(ClientSession session, in Request request)
    {
        for (int i = 1; i < request.Count; i += 2)
        {
            var key = request[i];
            // Set, not Insert: the same key may appear twice
            if (session.Table(key).Set(key, EntryTable.Hash(key), request[i + 1], 0, session.NowMs, out _) != WriteStatus.Ok)
            {
                session.Writer.WriteError(OutOfMemory);
                return false;
            }
            session.Node.Keyspace.Notify(KeyspaceEvents.String, "set"u8, key);
        }
        return true;
    }

    private static void Incr(ClientSession session, in Request request) => IncrementBy(session, request[1], 1);

    private static void Decr(ClientSession session, in Request request) => IncrementBy(session, request[1], -1);

    private static void IncrBy(ClientSession session, in Request request)
    {
        if (TryInteger(session, request[2], out long delta)) IncrementBy(session, request[1], delta);
    }

    private static void DecrBy(ClientSession session, in Request request)
    {
        if (!TryInteger(session, request[2], out long delta)) return;
        if (delta == long.MinValue)
        {
            session.Writer.WriteError("ERR decrement would overflow");
            return;
        }
        IncrementBy(session, request[1], -delta);
    }

    private static void IncrementBy(ClientSession session, ReadOnlySpan<byte> key, long delta)
    {
        var table = session.Table(key);
        uint hash = EntryTable.Hash(key);
        int id = table.Find(key, hash, session.NowMs);
        long current = 0;
        if (id >= 0 && !RespNumbers.TryParseInt64(table.Value(id), out current))
        {
            session.Writer.WriteError(NotInteger);
            return;
        }
        if (delta > 0 ? current > long.MaxValue - delta : current < long.MinValue - delta)
        {
            session.Writer.WriteError(Overflow);
            return;
        }
        long result = current + delta;
        Span<byte> digits = stackalloc byte[RespNumbers.MaxInt64Length];
        int length = RespNumbers.FormatInt64(result, digits);
        if (StoreKeepingTtl(table, key, hash, id, digits[..length]) != WriteStatus.Ok)
        {
            session.Writer.WriteError(OutOfMemory);
            return;
        }
        session.Node.Keyspace.Notify(KeyspaceEvents.String, "incrby"u8, key);
        session.Writer.WriteInteger(result);
    }

    private static void IncrByFloat(ClientSession session, in Request request)
    {
        var key = request[1];
        if (!RespNumbers.TryParseDouble(request[2], out double delta))
        {
            session.Writer.WriteError(NotFloat);
            return;
        }
        var table = session.Table(key);
        uint hash = EntryTable.Hash(key);
        int id = table.Find(key, hash, session.NowMs);
        double current = 0;
        if (id >= 0 && !RespNumbers.TryParseDouble(table.Value(id), out current))
        {
            session.Writer.WriteError(NotFloat);
            return;
        }
        Span<byte> text = stackalloc byte[RespNumbers.MaxDoubleLength];
        int length;
        if (TryAddDecimal(id < 0 ? "0"u8 : table.Value(id), request[2], text, out int decimalLength))
        {
            // decimal keeps 0.1 + 0.2 = 0.3 as Redis's long double does; double would print 0.30000000000000004
            length = decimalLength;
        }
        else
        {
            double result = current + delta;
            if (double.IsNaN(result) || double.IsInfinity(result))
            {
                session.Writer.WriteError("ERR increment would produce NaN or Infinity");
                return;
            }
            length = RespNumbers.FormatDouble(result, text);
        }
        if (StoreKeepingTtl(table, key, hash, id, text[..length]) != WriteStatus.Ok)
        {
            session.Writer.WriteError(OutOfMemory);
            return;
        }
        session.Writer.WriteBulkString(text[..length]);
    }

    /// <summary>Adds two numbers in decimal when both fit it exactly; false sends the caller to double arithmetic.</summary>
    private static bool TryAddDecimal(ReadOnlySpan<byte> current, ReadOnlySpan<byte> delta, Span<byte> destination, out int written)
    {
        written = 0;
        const System.Globalization.NumberStyles style = System.Globalization.NumberStyles.AllowLeadingSign |
            System.Globalization.NumberStyles.AllowDecimalPoint | System.Globalization.NumberStyles.AllowExponent;
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (!decimal.TryParse(current, style, culture, out decimal a) || !decimal.TryParse(delta, style, culture, out decimal b)) return false;
        decimal sum;
        try
        {
            sum = a + b;
        }
        catch (OverflowException)
        {
            return false;
        }
        return sum.TryFormat(destination, out written, "0.############################", culture);
    }

    /// <summary>Replaces the value of an existing entry (keeping its expiry) or creates a persistent one.</summary>
    private static WriteStatus StoreKeepingTtl(EntryTable table, ReadOnlySpan<byte> key, uint hash, int id, ReadOnlySpan<byte> value)
    {
        if (id < 0) return table.Insert(key, hash, value, 0, out _);
        var status = table.ResizeValue(id, value.Length, preserve: 0, out var target);
        if (status == WriteStatus.Ok) value.CopyTo(target);
        return status;
    }

    private static void Append(ClientSession session, in Request request)
    {
        var key = request[1];
        var suffix = request[2];
        var table = session.Table(key);
        uint hash = EntryTable.Hash(key);
        int id = table.Find(key, hash, session.NowMs);
        if (id < 0)
        {
            var created = table.Insert(key, hash, suffix, 0, out _);
            if (created == WriteStatus.Ok) session.Writer.WriteInteger(suffix.Length);
            else session.Writer.WriteError(OutOfMemory);
            return;
        }
        int oldLength = table.ValueLength(id);
        if ((long)oldLength + suffix.Length > MaxValueLength(session))
        {
            session.Writer.WriteError(StringTooLong);
            return;
        }
        var status = table.ResizeValue(id, oldLength + suffix.Length, preserve: oldLength, out var value);
        if (status != WriteStatus.Ok)
        {
            session.Writer.WriteError(OutOfMemory);
            return;
        }
        suffix.CopyTo(value[oldLength..]);
        session.Writer.WriteInteger(value.Length);
    }

    private static void StrLen(ClientSession session, in Request request)
    {
        int id = CommandSupport.Read(session, request[1], out var table);
        session.Writer.WriteInteger(id < 0 ? 0 : table.ValueLength(id));
    }

    private static void GetRange(ClientSession session, in Request request)
    {
        if (!TryInteger(session, request[2], out long start) || !TryInteger(session, request[3], out long end)) return;
        int id = CommandSupport.Read(session, request[1], out var table);
        if (id < 0)
        {
            session.Writer.WriteBulkString(ReadOnlySpan<byte>.Empty);
            return;
        }
        var value = table.Value(id);
        long length = value.Length;
        // Redis's rules: negative offsets count from the end, both ends clamp, an empty or inverted range is ""
        if (start < 0 && end < 0 && start > end)
        {
            session.Writer.WriteBulkString(ReadOnlySpan<byte>.Empty);
            return;
        }
        if (start < 0) start = length + start;
        if (end < 0) end = length + end;
        if (start < 0) start = 0;
        if (end < 0) end = 0;
        if (end >= length) end = length - 1;
        if (length == 0 || start > end)
        {
            session.Writer.WriteBulkString(ReadOnlySpan<byte>.Empty);
            return;
        }
        session.Writer.WriteBulkString(value.Slice((int)start, (int)(end - start + 1)));
    }

    private static void SetRange(ClientSession session, in Request request)
    {
        if (!TryInteger(session, request[2], out long offset)) return;
        if (offset < 0)
        {
            session.Writer.WriteError("ERR offset is out of range");
            return;
        }
        var key = request[1];
        var patch = request[3];
        var table = session.Table(key);
        uint hash = EntryTable.Hash(key);
        int id = table.Find(key, hash, session.NowMs);
        int oldLength = id < 0 ? 0 : table.ValueLength(id);
        if (patch.Length == 0)
        {
            session.Writer.WriteInteger(oldLength);
            return;
        }
        if (offset + patch.Length > MaxValueLength(session))
        {
            session.Writer.WriteError(StringTooLong);
            return;
        }
        int newLength = (int)Math.Max(oldLength, offset + patch.Length);
        Span<byte> value;
        WriteStatus status;
        if (id < 0)
        {
            status = table.Insert(key, hash, ReadOnlySpan<byte>.Empty, 0, out id);
            if (status == WriteStatus.Ok) status = table.ResizeValue(id, newLength, preserve: 0, out value);
            else value = default;
        }
        else
        {
            status = table.ResizeValue(id, newLength, preserve: oldLength, out value);
        }
        if (status != WriteStatus.Ok)
        {
            session.Writer.WriteError(OutOfMemory);
            return;
        }
        if (offset > oldLength) value[oldLength..(int)offset].Clear();
        patch.CopyTo(value[(int)offset..]);
        session.Writer.WriteInteger(newLength);
    }

    private static void Gets(ClientSession session, in Request request)
    {
        int id = CommandSupport.Read(session, request[1], out var table);
        if (id < 0)
        {
            session.Writer.WriteNullArray();
            return;
        }
        session.Writer.WriteArrayHeader(2);
        session.Writer.WriteBulkString(table.Value(id));
        session.Writer.WriteInteger(table.Version(id));
    }

    private static void Cas(ClientSession session, in Request request)
    {
        if (!TryInteger(session, request[2], out long expected)) return;
        long expireAt = 0;
        if (request.Count == 6 && ExpireUnit(request[4], out long unit, out bool absolute) && !absolute)
        {
            if (!TryExpireAt(session, request[5], unit, absolute: false, "ac.cas", allowNonPositive: false, out expireAt)) return;
        }
        else if (request.Count != 4)
        {
            session.Writer.WriteError(SyntaxError);
            return;
        }
        var key = request[1];
        var table = session.Table(key);
        uint hash = EntryTable.Hash(key);
        int id = table.Find(key, hash, session.NowMs);
        long current = id < 0 ? 0 : table.Version(id);
        if (current != expected)
        {
            session.Writer.WriteInteger(0);
            return;
        }
        var status = id >= 0 ? table.Replace(id, request[3], expireAt) : table.Insert(key, hash, request[3], expireAt, out _);
        if (status == WriteStatus.Ok) session.Writer.WriteInteger(1);
        else session.Writer.WriteError(OutOfMemory);
    }
}
