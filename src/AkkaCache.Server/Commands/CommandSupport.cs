using AkkaCache.Core.Storage;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>Argument parsing and replies shared by the command groups, with Redis's wording.</summary>
internal static class CommandSupport
{
    public const string SyntaxError = "ERR syntax error";
    public const string NotInteger = "ERR value is not an integer or out of range";
    public const string NotFloat = "ERR value is not a valid float";
    public const string Overflow = "ERR increment or decrement would overflow";
    public const string OutOfMemory = "OOM command not allowed when used memory > 'maxmemory'.";
    public const string NoSuchKey = "ERR no such key";
    public const string StringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

    public static void Add(this List<CommandDefinition> list, string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step,
        CommandHandler handler, string group, string summary)
        => list.Add(new CommandDefinition(name, arity, flags, firstKey, lastKey, step, handler, group, summary));

    public static bool Is(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> upperName) => RespNumbers.EqualsIgnoreCaseAscii(argument, upperName);

    /// <summary>Parses an integer argument or replies with Redis's error.</summary>
    public static bool TryInteger(ClientSession session, ReadOnlySpan<byte> argument, out long value)
    {
        if (RespNumbers.TryParseInt64(argument, out value)) return true;
        session.Writer.WriteError(NotInteger);
        return false;
    }

    public static void Reply(ClientSession session, WriteStatus status)
    {
        if (status == WriteStatus.Ok) session.Writer.WriteOk();
        else session.Writer.WriteError(OutOfMemory);
    }

    /// <summary>
    /// Turns a relative or absolute expiry argument into absolute unix ms, rejecting what Redis rejects
    /// (non-positive relative times, overflow) with "invalid expire time in '&lt;command&gt;' command".
    /// </summary>
    public static bool TryExpireAt(ClientSession session, ReadOnlySpan<byte> argument, long unitMs, bool absolute, string command,
        bool allowNonPositive, out long expireAtMs)
    {
        expireAtMs = 0;
        if (!RespNumbers.TryParseInt64(argument, out long amount))
        {
            session.Writer.WriteError(NotInteger);
            return false;
        }
        if (!allowNonPositive && amount <= 0 || amount > long.MaxValue / unitMs || amount < long.MinValue / unitMs)
        {
            session.Writer.WriteError($"ERR invalid expire time in '{command}' command");
            return false;
        }
        long ms = amount * unitMs;
        if (!absolute)
        {
            if (ms > 0 && session.NowMs > long.MaxValue - ms)
            {
                session.Writer.WriteError($"ERR invalid expire time in '{command}' command");
                return false;
            }
            ms += session.NowMs;
        }
        // 0 means "no expiry" in storage: a time at or before the epoch is simply already past
        expireAtMs = Math.Max(ms, 1);
        return true;
    }

    /// <summary>Looks up a key for reading (counts a hit or miss); -1 when absent or expired.</summary>
    public static int Read(ClientSession session, ReadOnlySpan<byte> key, out EntryTable table)
    {
        table = session.Table(key);
        return table.FindForRead(key, EntryTable.Hash(key), session.NowMs);
    }

    public static void WriteValueOrNull(ClientSession session, EntryTable table, int id)
    {
        if (id < 0) session.Writer.WriteNull();
        else session.Writer.WriteBulkString(table.Value(id));
    }

    public static int MaxValueLength(ClientSession session) => session.Node.RequestLimits.MaxBulkLength;
}
