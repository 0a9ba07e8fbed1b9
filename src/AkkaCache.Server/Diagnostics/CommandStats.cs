using System.Diagnostics;
using AkkaCache.Server.Commands;

namespace AkkaCache.Server.Diagnostics;

/// <summary>
/// One command's counters as INFO commandstats and LATENCY HISTOGRAM report them, and its latency histogram: bucket
/// <c>b</c> counts calls that took at most 2^b microseconds (Redis's LATENCY HISTOGRAM buckets are these powers of two).
/// </summary>
internal sealed class CommandCounters
{
    /// <summary>2^39 µs is six days: anything slower lands in the last bucket.</summary>
    public const int BucketCount = 40;

    public long Calls;
    public long ElapsedTicks;   // Stopwatch ticks, converted to microseconds when read
    public long Failed;
    public long Rejected;
    public readonly long[] Buckets = new long[BucketCount];

    public static int BucketOf(long microseconds) =>
        microseconds <= 1 ? 0 : Math.Min(BucketCount - 1, 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(microseconds - 1)));

    /// <summary>Upper bound in microseconds of bucket <paramref name="bucket"/>.</summary>
    public static long BucketLimit(int bucket) => 1L << bucket;

    public static long Microseconds(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;

    public void Add(CommandCounters other)
    {
        Calls += other.Calls;
        ElapsedTicks += other.ElapsedTicks;
        Failed += other.Failed;
        Rejected += other.Rejected;
        for (int i = 0; i < BucketCount; i++) Buckets[i] += other.Buckets[i];
    }

    public void Clear()
    {
        Calls = ElapsedTicks = Failed = Rejected = 0;
        Array.Clear(Buckets);
    }

    /// <summary>
    /// The latency (µs) under which <paramref name="percentile"/> percent of the calls completed: the upper bound of the
    /// bucket it falls in (the histogram's resolution is a power of two).
    /// </summary>
    public long Percentile(double percentile)
    {
        long total = 0;
        foreach (long count in Buckets) total += count;
        if (total == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(total * percentile / 100));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += Buckets[i];
            if (seen >= rank) return BucketLimit(i);
        }
        return BucketLimit(BucketCount - 1);
    }
}

/// <summary>
/// A connection's command counters: written only by its session (plain adds, no sharing), summed by readers. A
/// command's counters are created the first time the connection runs it, so a connection pays for the commands it uses.
/// </summary>
internal sealed class SessionCommandStats
{
    private CommandCounters?[] _byIndex = new CommandCounters?[CommandTable.Count];

    public CommandCounters For(CommandDefinition command) =>
        _byIndex[command.Index] ??= new CommandCounters();

    public void Record(CommandDefinition command, long elapsedTicks, long microseconds, bool failed)
    {
        var counters = For(command);
        counters.Calls++;
        counters.ElapsedTicks += elapsedTicks;
        if (failed) counters.Failed++;
        counters.Buckets[CommandCounters.BucketOf(microseconds)]++;
    }

    public void Reject(CommandDefinition command) => For(command).Rejected++;

    /// <summary>Adds these counters into <paramref name="totals"/> (indexed like the command table).</summary>
    public void AddTo(CommandCounters?[] totals)
    {
        var byIndex = Volatile.Read(ref _byIndex);
        for (int i = 0; i < byIndex.Length; i++)
        {
            if (byIndex[i] is { } counters) (totals[i] ??= new CommandCounters()).Add(counters);
        }
    }

    /// <summary>CONFIG RESETSTAT: this connection's counters start again (a racing increment may survive; Redis's RESETSTAT is as momentary).</summary>
    public void Reset() => Volatile.Write(ref _byIndex, new CommandCounters?[CommandTable.Count]);
}

/// <summary>
/// The node's command counters: the live connections' (read without stopping them) plus those of closed connections,
/// folded in when a connection closes. INFO commandstats, INFO latencystats, LATENCY HISTOGRAM and the metrics all read
/// <see cref="Snapshot"/>, so they agree.
/// </summary>
internal sealed class NodeCommandStats(Network.ClientRegistry clients)
{
    private readonly object _gate = new();
    private CommandCounters?[] _closed = new CommandCounters?[CommandTable.Count];

    /// <summary>A closed connection's counters join the node's (off the request path: once per connection).</summary>
    public void OnClosed(SessionCommandStats stats)
    {
        lock (_gate) stats.AddTo(_closed);
    }

    /// <summary>Per command (indexed like <see cref="CommandTable.ByIndex"/>): null for commands never run.</summary>
    public CommandCounters?[] Snapshot()
    {
        var totals = new CommandCounters?[CommandTable.Count];
        lock (_gate)
        {
            for (int i = 0; i < totals.Length; i++)
                if (_closed[i] is { } closed) (totals[i] = new CommandCounters()).Add(closed);
        }
        foreach (var client in clients.Live) client.CommandStats.AddTo(totals);
        return totals;
    }

    public void Reset()
    {
        lock (_gate) _closed = new CommandCounters?[CommandTable.Count];
        foreach (var client in clients.Live) client.CommandStats.Reset();
    }
}
