using AkkaCache.Core.Eviction;
using AkkaCache.Core.Expiry;

namespace AkkaCache.Core.Tests.Eviction;

public sealed class AllocationTests
{
    public static TheoryData<EvictionPolicyKind> Kinds()
    {
        var data = new TheoryData<EvictionPolicyKind>();
        foreach (var kind in Enum.GetValues<EvictionPolicyKind>())
        {
            data.Add(kind);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Policies_do_not_allocate_after_warm_up(EvictionPolicyKind kind)
    {
        const int capacity = 1_000;
        var policy = EvictionPolicy.Create(kind, capacity, randomSeed: 1);
        policy.EnsureCapacity(capacity + 1);
        var live = new bool[capacity + 1];
        int count = 0;
        var random = new Random(5);

        void Run(int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                int id = random.Next(capacity + 1);
                if (live[id])
                {
                    switch (random.Next(4))
                    {
                        case 0:
                            policy.OnUpdate(id, 1 + random.Next(3), random.Next(2) * (1 + random.Next(1_000_000)));
                            break;
                        case 1:
                            policy.OnRemove(id);
                            live[id] = false;
                            count--;
                            break;
                        default:
                            policy.OnAccess(id);
                            break;
                    }
                }
                else
                {
                    policy.OnMiss((uint)random.Next());
                    policy.OnInsert(id, (uint)id * 2654435761u, 1 + random.Next(3), random.Next(2) * (1 + random.Next(1_000_000)));
                    live[id] = true;
                    count++;
                    if (count > capacity * 9 / 10)
                    {
                        int victim = policy.SelectVictim();
                        if (victim >= 0)
                        {
                            policy.OnRemove(victim);
                            live[victim] = false;
                            count--;
                        }
                    }
                }

                policy.Frequency(id);
            }
        }

        // warm-up: arrays and the sketch reach their size, code is jitted
        Assert.Equal(0, Infrastructure.Allocations.Least(() => Run(200_000), warmups: 1, windows: 3));
    }

    private struct NullSink(long[] deadlines) : IExpirySink
    {
        public readonly long GetExpireAt(int id) => deadlines[id];

        public readonly void OnExpired(int id) => deadlines[id] = 0;
    }

    [Fact]
    public void Timer_wheel_does_not_allocate_after_warm_up()
    {
        const int ids = 10_000;
        long now = 1_000_000;
        var wheel = new TimerWheel(now);
        wheel.EnsureCapacity(ids);
        var deadlines = new long[ids];
        var random = new Random(3);
        var sink = new NullSink(deadlines);

        void Run(int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                int id = random.Next(ids);
                if (random.Next(3) == 0)
                {
                    deadlines[id] = 0;
                    wheel.Cancel(id);
                }
                else
                {
                    deadlines[id] = now + 1 + random.Next(10_000_000);
                    wheel.Schedule(id, deadlines[id]);
                }

                if (i % 16 == 0)
                {
                    now += random.Next(5_000);
                    wheel.Advance(now, 64, ref sink);
                }
            }
        }

        Assert.Equal(0, Infrastructure.Allocations.Least(() => Run(100_000), warmups: 1, windows: 3));
    }
}
