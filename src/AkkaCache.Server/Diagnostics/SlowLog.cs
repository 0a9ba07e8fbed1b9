using System.Text;
using AkkaCache.Protocol;
using AkkaCache.Server.Commands;

namespace AkkaCache.Server.Diagnostics;

/// <summary>One SLOWLOG entry, with the arguments already cut to Redis's limits.</summary>
internal sealed record SlowLogEntry(long Id, long UnixSeconds, long Microseconds, byte[][] Arguments, string ClientAddress, string ClientName);

/// <summary>
/// SLOWLOG: the most recent commands that ran for at least <see cref="ThresholdMicroseconds"/>, newest first, at most
/// <see cref="MaxLength"/> of them. The threshold is read on every command (one field read); the lock is taken only to
/// add a slow command, so commands under the threshold never touch shared state.
/// </summary>
internal sealed class SlowLog
{
    /// <summary>Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.</summary>
    public const int MaxArguments = 32;
    public const int MaxArgumentLength = 128;

    private readonly object _gate = new();
    private readonly LinkedList<SlowLogEntry> _entries = new();
    private long _nextId;
    private long _threshold = 10_000;
    private int _maxLength = 128;

    /// <summary>slowlog-log-slower-than: negative turns the log off, 0 logs every command.</summary>
    public long ThresholdMicroseconds
    {
        get => Volatile.Read(ref _threshold);
        set => Volatile.Write(ref _threshold, value);
    }

    /// <summary>slowlog-max-len: older entries are dropped past it.</summary>
    public int MaxLength
    {
        get => Volatile.Read(ref _maxLength);
        set
        {
            lock (_gate)
            {
                _maxLength = value;
                while (_entries.Count > value) _entries.RemoveLast();
            }
        }
    }

    public int Count
    {
        get { lock (_gate) return _entries.Count; }
    }

    /// <summary>True when a command that took <paramref name="microseconds"/> belongs in the log.</summary>
    public bool IsSlow(long microseconds)
    {
        long threshold = Volatile.Read(ref _threshold);
        return threshold >= 0 && microseconds >= threshold;
    }

    public void Add(CommandDefinition command, in Request request, long unixSeconds, long microseconds, string clientAddress, string? clientName)
    {
        var arguments = Arguments(command, request);
        lock (_gate)
        {
            if (_maxLength == 0) return;
            _entries.AddFirst(new SlowLogEntry(_nextId++, unixSeconds, microseconds, arguments, clientAddress, clientName ?? ""));
            while (_entries.Count > _maxLength) _entries.RemoveLast();
        }
    }

    /// <summary>The newest <paramref name="count"/> entries (all when negative).</summary>
    public List<SlowLogEntry> Newest(long count)
    {
        lock (_gate)
        {
            var result = new List<SlowLogEntry>((int)Math.Min(_entries.Count, count < 0 ? long.MaxValue : count));
            foreach (var entry in _entries)
            {
                if (count >= 0 && result.Count >= count) break;
                result.Add(entry);
            }
            return result;
        }
    }

    public void Reset()
    {
        lock (_gate) _entries.Clear();
    }

    /// <summary>
    /// As Redis's slowlogCreateEntry: at most 32 arguments, the last of them then saying "... (N more arguments)";
    /// strings over 128 bytes cut with "... (N more bytes)"; passwords (AUTH, HELLO AUTH, CONFIG SET requirepass) redacted.
    /// </summary>
    internal static byte[][] Arguments(CommandDefinition command, in Request request)
    {
        int count = Math.Min(request.Count, MaxArguments);
        var arguments = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            if (count != request.Count && i == count - 1)
            {
                arguments[i] = Encoding.ASCII.GetBytes($"... ({request.Count - count + 1} more arguments)");
                continue;
            }
            var argument = request[i];
            if (IsSecret(command, request, i)) arguments[i] = "(redacted)"u8.ToArray();
            else if (argument.Length > MaxArgumentLength)
                arguments[i] = [.. argument[..MaxArgumentLength], .. Encoding.ASCII.GetBytes($"... ({argument.Length - MaxArgumentLength} more bytes)")];
            else arguments[i] = argument.ToArray();
        }
        return arguments;
    }

    private static bool IsSecret(CommandDefinition command, in Request request, int index)
    {
        switch (command.Name)
        {
            case "AUTH":
                return index >= 1;
            case "HELLO":
                // HELLO [protover [AUTH username password] [SETNAME name]]
                for (int i = 2; i + 2 < request.Count; i++)
                    if (Ascii.EqualsIgnoreCase(request[i], "AUTH"u8) && (index == i + 1 || index == i + 2)) return true;
                return false;
            case "CONFIG":
                return index >= 3 && index % 2 == 1 && request.Count > 2 && Ascii.EqualsIgnoreCase(request[1], "SET"u8)
                       && Ascii.EqualsIgnoreCase(request[index - 1], "requirepass"u8);
            default:
                return false;
        }
    }
}
