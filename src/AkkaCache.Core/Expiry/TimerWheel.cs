using System.Numerics;

namespace AkkaCache.Core.Expiry;

/// <summary>
/// Hierarchical timer wheel for active expiry, ms resolution, single-threaded (owned by a shard actor).
/// </summary>
/// <remarks>
/// <para>6 levels of 64 buckets. A bucket of level L covers 2^(6L) ms, so level 0 is exact to the
/// millisecond and spans 64 ms, level 1 spans 4.1 s, level 2 4.4 min, level 3 4.7 h, level 4 12.4 days
/// and level 5 2.18 years. An id goes to the lowest level whose current slot it shares with the wheel's
/// time at every higher level; deadlines beyond the top level's current 2.18-year cycle also go to the top
/// level (by their digit there) and are re-placed each time their bucket comes round. When time enters a
/// bucket of a higher level, its ids are cascaded down (or expired); a 64-bit occupancy mask per level
/// lets <see cref="Advance"/> jump straight to the next non-empty bucket, so idle stretches cost nothing.</para>
/// <para>Ids whose deadline has been reached wait in a due list and are expired from there, at most
/// <c>maxExpirations</c> per <see cref="Advance"/> call; the next call resumes with them. Nothing is
/// ever expired before its deadline (the sink's <see cref="IExpirySink.GetExpireAt"/> is checked right
/// before <see cref="IExpirySink.OnExpired"/>), and nothing is expired later than the first
/// <see cref="Advance"/> at or after the deadline that still has budget left.</para>
/// <para>Per id: 8 bytes (int prev + int next); the deadline itself is not stored, the sink has it.
/// Buckets are doubly-linked lists of ids whose ends link to the bucket (a negative value), so there are
/// no per-entry or per-bucket objects. Cascading is not limited by <c>maxExpirations</c>: entering a
/// bucket moves all its ids one level down (each id moves at most once per level, 6 times in all).
/// Time must not go backwards: an <see cref="Advance"/> to an earlier time than the wheel's processes
/// only the due list.</para>
/// </remarks>
public sealed class TimerWheel
{
    private const int Bits = 6;
    private const int BucketsPerLevel = 1 << Bits;
    private const int Levels = 6;
    private const int TopLevel = Levels - 1;
    private const int TopShift = Bits * TopLevel;     // width of a top-level bucket: 2^30 ms
    private const int CycleShift = Bits * Levels;     // span of the whole wheel: 2^36 ms
    private const int DueBucket = Levels * BucketsPerLevel;
    private const int BucketCount = DueBucket + 1;
    private const int NotScheduled = int.MinValue;

    // prev/next of an id: another id (>= 0) or a bucket sentinel (-2 - bucket).
    private int[] _prev = [];
    private int[] _next = [];

    // First and last id of each bucket, -1 when empty.
    private readonly int[] _head = new int[BucketCount];
    private readonly int[] _tail = new int[BucketCount];
    private readonly ulong[] _occupied = new ulong[Levels];

    private long _now;

    /// <summary>Creates an empty wheel whose time is <paramref name="nowMs"/>.</summary>
    public TimerWheel(long nowMs)
    {
        _now = nowMs;
        _head.AsSpan().Fill(-1);
        _tail.AsSpan().Fill(-1);
    }

    /// <summary>Number of scheduled ids (including those due and not yet expired).</summary>
    public int Count { get; private set; }

    /// <summary>Makes room for ids in [0, idCapacity). Grows geometrically; never shrinks.</summary>
    public void EnsureCapacity(int idCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(idCapacity);
        if (idCapacity <= _prev.Length)
        {
            return;
        }

        int old = _prev.Length;
        int size = (int)Math.Min(Array.MaxLength, Math.Max(idCapacity, Math.Max(16L, old * 2L)));
        Array.Resize(ref _prev, size);
        Array.Resize(ref _next, size);
        _prev.AsSpan(old).Fill(NotScheduled);
    }

    /// <summary>Schedules the id to expire at <paramref name="expireAtMs"/>, replacing a previous schedule.</summary>
    public void Schedule(int id, long expireAtMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        EnsureCapacity(id + 1);
        if (_prev[id] != NotScheduled)
        {
            Unlink(id);
        }
        else
        {
            Count++;
        }

        Place(id, expireAtMs);
    }

    /// <summary>Unschedules the id; no-op when it is not scheduled.</summary>
    public void Cancel(int id)
    {
        if ((uint)id < (uint)_prev.Length && _prev[id] != NotScheduled)
        {
            Unlink(id);
            _prev[id] = NotScheduled;
            Count--;
        }
    }

    /// <summary>Whether the id is scheduled.</summary>
    public bool IsScheduled(int id) => (uint)id < (uint)_prev.Length && _prev[id] != NotScheduled;

    /// <summary>
    /// Expires every scheduled id whose expiry is at or before <paramref name="nowMs"/>, calling
    /// <see cref="IExpirySink.OnExpired"/> at most <paramref name="maxExpirations"/> times (after
    /// unscheduling the id). When the budget runs out, the next call continues where this one stopped.
    /// </summary>
    /// <returns>The number of ids expired.</returns>
    public int Advance<TSink>(long nowMs, int maxExpirations, ref TSink sink)
        where TSink : struct, IExpirySink
    {
        int expired = 0;
        while (true)
        {
            // Expire what is due, within the budget.
            while (_head[DueBucket] >= 0)
            {
                if (expired >= maxExpirations)
                {
                    return expired;
                }

                int id = _head[DueBucket];
                Unlink(id);
                long expireAt = sink.GetExpireAt(id);
                if (expireAt <= 0)
                {
                    _prev[id] = NotScheduled; // no longer expiring
                    Count--;
                }
                else if (expireAt > _now)
                {
                    Place(id, expireAt); // the deadline moved later without a reschedule
                }
                else
                {
                    _prev[id] = NotScheduled;
                    Count--;
                    expired++;
                    sink.OnExpired(id);
                }
            }

            if (nowMs <= _now)
            {
                return expired;
            }

            long next = NextBucketStart();
            if (next > nowMs)
            {
                _now = nowMs;
                return expired;
            }

            // Enter every bucket that starts at 'next', higher levels first so that their ids cascade
            // into lower levels (or the due list) before those are looked at.
            _now = next;
            for (int level = TopLevel; level >= 0; level--)
            {
                int shift = Bits * level;
                if ((next & ((1L << shift) - 1)) != 0)
                {
                    continue; // not a boundary of this level
                }

                int digit = (int)((next >> shift) & (BucketsPerLevel - 1));
                if ((_occupied[level] & (1UL << digit)) != 0)
                {
                    Cascade((level * BucketsPerLevel) + digit, ref sink);
                }
            }
        }
    }

    /// <summary>Unschedules every id. The wheel's time is kept.</summary>
    public void Clear()
    {
        _prev.AsSpan().Fill(NotScheduled);
        _head.AsSpan().Fill(-1);
        _tail.AsSpan().Fill(-1);
        Array.Clear(_occupied);
        Count = 0;
    }

    /// <summary>Detaches a bucket and re-places each of its ids relative to the (new) time.</summary>
    private void Cascade<TSink>(int bucket, ref TSink sink)
        where TSink : struct, IExpirySink
    {
        int id = _head[bucket];
        _head[bucket] = -1;
        _tail[bucket] = -1;
        _occupied[bucket >> Bits] &= ~(1UL << (bucket & (BucketsPerLevel - 1)));
        while (id >= 0)
        {
            int following = _next[id];
            long expireAt = sink.GetExpireAt(id);
            if (expireAt <= 0)
            {
                _prev[id] = NotScheduled;
                Count--;
            }
            else
            {
                Place(id, expireAt);
            }

            id = following;
        }
    }

    /// <summary>Start time of the earliest non-empty bucket the time has not entered yet.</summary>
    private long NextBucketStart()
    {
        long best = long.MaxValue;
        for (int level = 0; level < Levels; level++)
        {
            ulong occupied = _occupied[level];
            if (occupied == 0)
            {
                continue;
            }

            int shift = Bits * level;
            int digit = (int)((_now >> shift) & (BucketsPerLevel - 1));
            ulong later = digit == BucketsPerLevel - 1 ? 0 : occupied & (ulong.MaxValue << (digit + 1));
            long start;
            if (later != 0)
            {
                long prefix = (_now >> (shift + Bits)) << (shift + Bits);
                start = prefix | ((long)BitOperations.TrailingZeroCount(later) << shift);
            }
            else if (level == TopLevel)
            {
                // Only far deadlines sit at or before the current top digit: their bucket comes round next cycle.
                long nextCycle = ((_now >> CycleShift) + 1) << CycleShift;
                start = nextCycle | ((long)BitOperations.TrailingZeroCount(occupied) << TopShift);
            }
            else
            {
                continue; // cannot happen: lower levels only hold digits after the current one
            }

            if (start < best)
            {
                best = start;
            }
        }

        return best;
    }

    private void Place(int id, long expireAt)
    {
        int bucket;
        if (expireAt <= _now)
        {
            bucket = DueBucket;
        }
        else
        {
            ulong differing = (ulong)(expireAt ^ _now);
            int level = differing < BucketsPerLevel ? 0 : (63 - BitOperations.LeadingZeroCount(differing)) / Bits;
            if (level > TopLevel)
            {
                level = TopLevel;
            }

            int digit = (int)((expireAt >> (Bits * level)) & (BucketsPerLevel - 1));
            bucket = (level * BucketsPerLevel) + digit;
            _occupied[level] |= 1UL << digit;
        }

        int tail = _tail[bucket];
        _next[id] = -2 - bucket;
        if (tail >= 0)
        {
            _next[tail] = id;
            _prev[id] = tail;
        }
        else
        {
            _head[bucket] = id;
            _prev[id] = -2 - bucket;
        }

        _tail[bucket] = id;
    }

    /// <summary>Removes a scheduled id from its bucket (keeps the Count; the caller marks it).</summary>
    private void Unlink(int id)
    {
        int p = _prev[id];
        int n = _next[id];
        int bucket = -1;
        if (p >= 0)
        {
            _next[p] = n;
        }
        else
        {
            bucket = -2 - p;
            _head[bucket] = n >= 0 ? n : -1;
        }

        if (n >= 0)
        {
            _prev[n] = p;
        }
        else
        {
            bucket = -2 - n;
            _tail[bucket] = p >= 0 ? p : -1;
        }

        if (bucket >= 0 && bucket < DueBucket && _head[bucket] < 0)
        {
            _occupied[bucket >> Bits] &= ~(1UL << (bucket & (BucketsPerLevel - 1)));
        }
    }
}
