using AkkaCache.Core.Expiry;

namespace AkkaCache.Core.Tests.Expiry;

public sealed class TimerWheelTests
{
    private const long Start = 1_700_000_000_000; // a realistic Unix time in ms
    private const long Day = 86_400_000;

    /// <summary>The owner's view: id → deadline (0 = persistent); records every expiry with the time it happened.</summary>
    private sealed class Model
    {
        public Dictionary<int, long> Deadlines { get; } = new();

        public List<(int Id, long At)> Expired { get; } = [];

        public long Now { get; set; }

        public Action<int>? OnExpiredHook { get; set; }
    }

    private struct Sink(Model model) : IExpirySink
    {
        public readonly long GetExpireAt(int id) => model.Deadlines.TryGetValue(id, out long at) ? at : 0;

        public readonly void OnExpired(int id)
        {
            Assert.True(model.Deadlines.ContainsKey(id), $"expired unknown id {id}");
            Assert.True(model.Deadlines[id] <= model.Now, $"id {id} expired at {model.Now}, before its deadline {model.Deadlines[id]}");
            model.Expired.Add((id, model.Now));
            model.Deadlines.Remove(id);
            model.OnExpiredHook?.Invoke(id);
        }
    }

    private static int Advance(TimerWheel wheel, Model model, long now, int budget = int.MaxValue)
    {
        model.Now = now;
        var sink = new Sink(model);
        return wheel.Advance(now, budget, ref sink);
    }

    private static void Schedule(TimerWheel wheel, Model model, int id, long at)
    {
        model.Deadlines[id] = at;
        wheel.Schedule(id, at);
    }

    [Fact]
    public void Expires_exactly_at_the_deadline_never_before()
    {
        var wheel = new TimerWheel(Start);
        var model = new Model();
        Schedule(wheel, model, 1, Start + 5);
        Schedule(wheel, model, 2, Start + 64);
        Schedule(wheel, model, 3, Start + 4_097);
        Assert.Equal(3, wheel.Count);

        for (long t = Start; t < Start + 5_000; t++)
        {
            Advance(wheel, model, t);
        }

        Assert.Equal([(1, Start + 5), (2, Start + 64), (3, Start + 4_097)], model.Expired);
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void Past_and_present_deadlines_expire_on_the_next_advance()
    {
        var wheel = new TimerWheel(Start);
        var model = new Model();
        Schedule(wheel, model, 1, Start - 10_000);
        Schedule(wheel, model, 2, Start);
        Assert.Equal(2, Advance(wheel, model, Start));
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void Reschedule_moves_and_cancel_removes()
    {
        var wheel = new TimerWheel(Start);
        var model = new Model();
        Schedule(wheel, model, 7, Start + 100);
        Schedule(wheel, model, 8, Start + 100);
        Schedule(wheel, model, 9, Start + 100);
        Schedule(wheel, model, 7, Start + 10 * Day); // later
        Schedule(wheel, model, 8, Start + 10);       // earlier
        model.Deadlines.Remove(9);
        wheel.Cancel(9);
        wheel.Cancel(9);                             // no-op
        wheel.Cancel(12345);                         // never scheduled, beyond capacity: no-op
        Assert.False(wheel.IsScheduled(9));
        Assert.True(wheel.IsScheduled(7));
        Assert.Equal(2, wheel.Count);

        Assert.Equal(1, Advance(wheel, model, Start + 100));
        Assert.Equal([(8, Start + 100)], model.Expired);
        Assert.Equal(0, Advance(wheel, model, Start + (10 * Day) - 1));
        Assert.Equal(1, Advance(wheel, model, Start + (10 * Day)));
        Assert.False(wheel.IsScheduled(7));
    }

    [Fact]
    public void Far_future_deadlines_wait_for_years()
    {
        var wheel = new TimerWheel(Start);
        var model = new Model();
        long[] deadlines = [Start + (400 * Day), Start + (3 * 365 * Day) + 17, Start + (10 * 365 * Day) + 123_456, long.MaxValue / 4];
        for (int i = 0; i < deadlines.Length; i++)
        {
            Schedule(wheel, model, i, deadlines[i]);
        }

        // Walk time forward in uneven jumps, stopping just before and exactly at every deadline.
        long now = Start;
        foreach (long deadline in deadlines[..3])
        {
            while (now < deadline - 1)
            {
                now = Math.Min(deadline - 1, now + (37 * Day) + 12_345);
                Advance(wheel, model, now);
                Assert.Equal(deadlines.Count(d => d <= now), model.Expired.Count);
            }

            Assert.Equal(1, Advance(wheel, model, deadline));
            now = deadline;
        }

        Assert.Equal(3, model.Expired.Count);
        Assert.True(wheel.IsScheduled(3));
        Assert.Equal(1, wheel.Count);
    }

    [Fact]
    public void Cascades_through_every_level_boundary()
    {
        // Deadlines right around the bucket boundaries of every level (2^6k ms).
        var wheel = new TimerWheel(0);
        var model = new Model();
        int id = 0;
        for (int level = 1; level <= 6; level++)
        {
            long boundary = 1L << (6 * level);
            foreach (long at in (long[])[boundary - 1, boundary, boundary + 1, (3 * boundary) + 5])
            {
                Schedule(wheel, model, id++, at);
            }
        }

        var original = new Dictionary<int, long>(model.Deadlines);
        var deadlines = original.Values.Distinct().Order().ToArray();
        foreach (long at in deadlines)
        {
            Advance(wheel, model, at - 1);
            int before = model.Expired.Count;
            Advance(wheel, model, at);
            Assert.True(model.Expired.Count > before, $"nothing expired at {at}");
        }

        // Advancing to every deadline and to the millisecond before it: each id expired exactly on time.
        Assert.Equal(id, model.Expired.Count);
        Assert.All(model.Expired, e => Assert.Equal(original[e.Id], e.At));
    }

    [Fact]
    public void Budget_limits_expirations_and_the_next_advance_resumes()
    {
        var wheel = new TimerWheel(Start);
        var model = new Model();
        for (int id = 0; id < 100; id++)
        {
            Schedule(wheel, model, id, Start + 1_000 + (id % 3)); // three neighbouring deadlines
        }

        Schedule(wheel, model, 500, Start + 50_000);
        Assert.Equal(30, Advance(wheel, model, Start + 10_000, 30));
        Assert.Equal(70, wheel.Count - 1);
        Assert.Equal(30, Advance(wheel, model, Start + 10_000, 30));
        Assert.Equal(30, Advance(wheel, model, Start + 10_001, 30));
        Assert.Equal(10, Advance(wheel, model, Start + 10_002, 30));
        Assert.Equal(0, Advance(wheel, model, Start + 10_003, 30));
        Assert.Equal(100, model.Expired.Count);
        Assert.Equal(100, model.Expired.Select(e => e.Id).Distinct().Count());
        Assert.Equal(1, wheel.Count);
        Assert.Equal(0, Advance(wheel, model, Start + 49_999, 0));
        Assert.Equal(0, Advance(wheel, model, Start + 50_000, 0)); // a zero budget expires nothing
        Assert.Equal(1, Advance(wheel, model, Start + 50_000, 1));
    }

    [Fact]
    public void Expired_callback_may_cancel_and_schedule()
    {
        var wheel = new TimerWheel(Start);
        var model = new Model();
        Schedule(wheel, model, 1, Start + 10);
        Schedule(wheel, model, 2, Start + 10);
        Schedule(wheel, model, 3, Start + 10);
        model.OnExpiredHook = id =>
        {
            wheel.Cancel(id); // re-entrant cancel of the expiring id: a no-op
            if (id == 1 || id == 2)
            {
                int other = id == 1 ? 2 : 1;
                if (model.Deadlines.Remove(3))
                {
                    wheel.Cancel(3);
                }

                if (model.Deadlines.ContainsKey(other))
                {
                    // the other one gets a new, later life
                    model.Deadlines[other] = Start + 1_000;
                    wheel.Schedule(other, Start + 1_000);
                }
            }
        };

        Assert.Equal(1, Advance(wheel, model, Start + 10));
        Assert.Equal(1, wheel.Count);
        Assert.Equal(0, Advance(wheel, model, Start + 999));
        Assert.Equal(1, Advance(wheel, model, Start + 1_000));
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void The_sink_is_the_source_of_truth_for_deadlines()
    {
        var wheel = new TimerWheel(Start);
        var model = new Model();
        Schedule(wheel, model, 1, Start + 100);
        Schedule(wheel, model, 2, Start + 100);
        model.Deadlines[1] = Start + 5_000; // extended without telling the wheel
        model.Deadlines[2] = 0;             // made persistent without telling the wheel
        Assert.Equal(0, Advance(wheel, model, Start + 4_999));
        Assert.False(wheel.IsScheduled(2));
        Assert.True(wheel.IsScheduled(1));
        Assert.Equal(1, Advance(wheel, model, Start + 5_000));
        Assert.Equal([(1, Start + 5_000)], model.Expired);
    }

    [Fact]
    public void Clear_unschedules_everything_and_the_wheel_stays_usable()
    {
        var wheel = new TimerWheel(Start);
        var model = new Model();
        for (int id = 0; id < 1_000; id++)
        {
            Schedule(wheel, model, id, Start + (id * 997L));
        }

        Advance(wheel, model, Start + 10_000, 3);
        wheel.Clear();
        Assert.Equal(0, wheel.Count);
        Assert.False(wheel.IsScheduled(500));
        model.Deadlines.Clear();
        model.Expired.Clear();
        Assert.Equal(0, Advance(wheel, model, Start + (2_000L * 997)));
        Schedule(wheel, model, 5, Start + (2_000L * 997) + 1);
        Assert.Equal(1, Advance(wheel, model, Start + (2_000L * 997) + 1));
    }

    [Fact]
    public void Time_going_backwards_expires_nothing_new()
    {
        var wheel = new TimerWheel(Start);
        var model = new Model();
        Schedule(wheel, model, 1, Start + 500);
        Assert.Equal(0, Advance(wheel, model, Start - 1_000));
        Assert.Equal(1, Advance(wheel, model, Start + 500));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 50)]
    [InlineData(3, 1_000)]
    [InlineData(4, 100_000)]
    [InlineData(5, 50 * Day)]
    public void Matches_a_brute_force_model(int seed, long maxStep)
    {
        var random = new Random(seed);
        var wheel = new TimerWheel(Start);
        var model = new Model();
        long now = Start;
        for (int step = 0; step < 30_000; step++)
        {
            int id = random.Next(2_000);
            switch (random.Next(10))
            {
                case < 5:
                    // mostly near deadlines, some far and a few in the past
                    long at = random.Next(20) switch
                    {
                        0 => now - random.Next(1_000),
                        1 => now + (long)(random.NextDouble() * 3 * 365 * Day),
                        < 8 => now + random.Next(100),
                        _ => now + (long)(random.NextDouble() * maxStep * 20),
                    };
                    Schedule(wheel, model, id, at);
                    break;
                case < 7:
                    model.Deadlines.Remove(id);
                    wheel.Cancel(id);
                    break;
                default:
                    now += (long)(random.NextDouble() * maxStep);
                    int budget = random.Next(4) == 0 ? random.Next(5) : int.MaxValue;
                    int dueBefore = model.Deadlines.Count(d => d.Value <= now);
                    int expired = Advance(wheel, model, now, budget);
                    int dueAfter = model.Deadlines.Count(d => d.Value <= now);
                    Assert.Equal(Math.Min(budget, dueBefore), expired);
                    Assert.Equal(dueBefore - expired, dueAfter);
                    break;
            }

            Assert.Equal(model.Deadlines.Count, wheel.Count);
            if (step % 1_000 == 0)
            {
                foreach (int scheduled in model.Deadlines.Keys)
                {
                    Assert.True(wheel.IsScheduled(scheduled));
                }
            }
        }

        // Drain far into the future: everything expires, each exactly once.
        int total = model.Expired.Count + model.Deadlines.Count;
        Advance(wheel, model, now + (20 * 365 * Day));
        Assert.Empty(model.Deadlines);
        Assert.Equal(total, model.Expired.Count);
        Assert.Equal(0, wheel.Count);
    }
}
