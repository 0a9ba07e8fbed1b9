using AkkaCache.Cluster.ControlPlane;

namespace AkkaCache.Cluster.Tests;

public sealed class LeaseGuardTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(750);

    [Fact]
    public void Never_confirmed_is_not_valid()
    {
        var guard = new LeaseGuard(new ManualClock(), Ttl, Margin);
        Assert.False(guard.IsValid);
        Assert.Equal(TimeSpan.Zero, guard.Remaining);
    }

    [Fact]
    public void Valid_until_ttl_minus_margin_after_the_keepalive_was_sent()
    {
        var clock = new ManualClock();
        var guard = new LeaseGuard(clock, Ttl, Margin);
        long sentAt = guard.BeforeRequest();
        clock.Advance(TimeSpan.FromMilliseconds(400)); // the answer takes a while: the deadline still counts from sending
        guard.Confirmed(sentAt);
        Assert.True(guard.IsValid);
        clock.Advance(Ttl - Margin - TimeSpan.FromMilliseconds(401));
        Assert.True(guard.IsValid);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(guard.IsValid); // etcd may expire the lease 750 ms from now at the earliest: stop already
    }

    [Fact]
    public void A_late_answer_to_an_older_keepalive_does_not_move_the_deadline_back()
    {
        var clock = new ManualClock();
        var guard = new LeaseGuard(clock, Ttl, Margin);
        long first = guard.BeforeRequest();
        clock.Advance(TimeSpan.FromSeconds(1));
        long second = guard.BeforeRequest();
        guard.Confirmed(second);
        guard.Confirmed(first);
        clock.Advance(Ttl - Margin - TimeSpan.FromMilliseconds(1));
        Assert.True(guard.IsValid);
    }

    [Fact]
    public void A_pause_past_the_deadline_is_noticed_on_the_first_check_after_it()
    {
        var clock = new ManualClock();
        var guard = new LeaseGuard(clock, Ttl, Margin);
        guard.Confirmed(guard.BeforeRequest());
        clock.Advance(TimeSpan.FromSeconds(30)); // SIGSTOP for 30 s: no keep-alive ran meanwhile
        Assert.False(guard.IsValid);
    }

    [Fact]
    public void Lost_stops_at_once()
    {
        var clock = new ManualClock();
        var guard = new LeaseGuard(clock, Ttl, Margin);
        guard.Confirmed(guard.BeforeRequest());
        guard.Lost();
        Assert.False(guard.IsValid);
    }

    [Fact]
    public void The_margin_must_be_shorter_than_the_ttl() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeaseGuard(new ManualClock(), Ttl, Ttl));
}
