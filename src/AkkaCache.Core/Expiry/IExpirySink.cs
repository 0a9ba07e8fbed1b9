namespace AkkaCache.Core.Expiry;

/// <summary>The owner of the entries a <see cref="TimerWheel"/> schedules (a struct, so calls are not virtual).</summary>
public interface IExpirySink
{
    /// <summary>
    /// The entry's current absolute expiry in ms. The wheel asks when it cascades an id and right
    /// before expiring it, so this is the source of truth: a value later than the wheel's time
    /// re-schedules the id, 0 or negative (no expiry any more) drops it silently. Must not call back
    /// into the wheel.
    /// </summary>
    long GetExpireAt(int id);

    /// <summary>
    /// The entry expired: the wheel has already unscheduled the id. The sink removes the entry; it may
    /// call <see cref="TimerWheel.Cancel"/> (a no-op for this id) or schedule/cancel other ids.
    /// </summary>
    void OnExpired(int id);
}
