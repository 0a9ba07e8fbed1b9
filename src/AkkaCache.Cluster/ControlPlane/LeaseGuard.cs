namespace AkkaCache.Cluster.ControlPlane;

/// <summary>
/// How long this node may still act on its membership: the quorum lease (<c>LeaseKeeper</c>). The other members stop
/// vouching for a node once they see it unreachable, and the split brain resolver downs it no earlier than
/// <c>stable-after</c> later, so a confirmation counts from when the question was <em>sent</em>, for the lease's TTL
/// minus a safety margin (for clock-rate differences and the time between checking and acting). Past it the node refuses whatever it can no
/// longer vouch for; a node paused by SIGSTOP finds the deadline behind it the moment it resumes.
/// </summary>
public sealed class LeaseGuard
{
    private readonly TimeProvider _time;
    private readonly long _validTicks;      // lease TTL minus margin, in timestamp ticks
    private long _validUntil;               // timestamp; 0 = never confirmed

    public LeaseGuard(TimeProvider time, TimeSpan leaseTtl, TimeSpan safetyMargin)
    {
        if (safetyMargin >= leaseTtl) throw new ArgumentOutOfRangeException(nameof(safetyMargin), "The safety margin must be shorter than the lease TTL.");
        _time = time;
        LeaseTtl = leaseTtl;
        _validTicks = (long)((leaseTtl - safetyMargin).TotalSeconds * time.TimestampFrequency);
    }

    public TimeSpan LeaseTtl { get; }

    /// <summary>The timestamp to pass to <see cref="Confirmed"/>: read before the lease question leaves.</summary>
    public long BeforeRequest() => _time.GetTimestamp();

    /// <summary>A side the resolver would keep vouched for this node, answering the question sent at <paramref name="sentAt"/>.</summary>
    public void Confirmed(long sentAt)
    {
        long until = sentAt + _validTicks;
        // answers may come back out of order: never move the deadline back
        long current = Volatile.Read(ref _validUntil);
        while (until > current)
        {
            long seen = Interlocked.CompareExchange(ref _validUntil, until, current);
            if (seen == current) break;
            current = seen;
        }
    }

    /// <summary>The lease is gone (revoked, expired, or replaced by a new incarnation): stop at once.</summary>
    public void Lost() => Volatile.Write(ref _validUntil, 0);

    /// <summary>Checked on every keyed request: one timestamp read and a compare.</summary>
    public bool IsValid => _time.GetTimestamp() < Volatile.Read(ref _validUntil);

    /// <summary>Time left before the node must stop serving (zero when already past).</summary>
    public TimeSpan Remaining
    {
        get
        {
            long left = Volatile.Read(ref _validUntil) - _time.GetTimestamp();
            return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(left / (double)_time.TimestampFrequency);
        }
    }
}
